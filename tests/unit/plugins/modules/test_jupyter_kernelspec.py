"""jupyter_kernelspec: the case table in jupyter_kernelspec_cases.yml, run against a temporary tree.

Each case builds its tree under tmp_path, runs the module with run_command scripted (the ipykernel
probe answers from a fixture in the table), then checks the result and the tree. Refusals and check
mode must leave the tree exactly as it was.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import stat
import subprocess
import sys
import types

import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.baremetal.jupyterhub.plugins.modules import jupyter_kernelspec as ks
from modrun import Cmd, run_module, substitute

TABLE = yaml.safe_load((pathlib.Path(__file__).with_name("jupyter_kernelspec_cases.yml")).read_text())
DEFAULT_KDIR = "prefix/share/jupyter/kernels/py"
DEFAULT_PYTHON = "env/bin/python"


def snapshot(root: pathlib.Path):
    """Everything under root: type, mode, content or link target."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = pathlib.Path(dirpath, name)
            rel = str(path.relative_to(root))
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                tree[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                tree[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                tree[rel] = ("file", stat.S_IMODE(st.st_mode), path.read_bytes())
    return tree


def octal(mode):
    """YAML 1.1 reads 0o755 as a string."""
    return int(mode, 0) if isinstance(mode, str) else mode


def users(tmp):
    out = {}
    for name, u in TABLE["users"].items():
        uid = os.geteuid() if u["uid"] == "self" else u["uid"]
        gid = os.getegid() if u["gid"] == "self" else u["gid"]
        out[name] = types.SimpleNamespace(pw_name=name, pw_uid=uid, pw_gid=gid, pw_dir=u["home"].replace("{tmp}", tmp))
    return out


def probe_output(fixture_name, ctx):
    fx = TABLE["ipykernels"][fixture_name]
    out = {
        "path": ctx["tmp"] + "/env/lib/python3/site-packages/ipykernel",
        "version": fx["version"],
        "logos": {n: base64.b64encode(c.encode()).decode("ascii") for n, c in fx["logos"].items()},
        "kernel": fx.get("kernel"),
    }
    if "kernel_error" in fx:
        out["kernel_error"] = fx["kernel_error"]
    return "\n" + json.dumps(out) + "\n"


def expected_commands(case, ctx):
    cmds = []
    for c in case.get("commands", []):
        c = substitute(c, ctx)
        python = c.get("python", ctx["python"])
        argv = [python, "-c", ks.PROBE]
        env = {"LC_ALL": "C"}
        out = c.get("out", "")
        if "probe" in c:
            out = c.get("noise", "") + probe_output(c["probe"], ctx)
        cmds.append(Cmd(argv, rc=c.get("rc", 0), out=out, err=c.get("err", ""), environ_update=env))
    return cmds


def build_tree(root: pathlib.Path, case, ctx):
    python = root / DEFAULT_PYTHON
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 99\n")  # never run: run_command is scripted
    python.chmod(0o755)
    for d in case.get("dirs", []):
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel, content in substitute(case.get("files", {}), ctx).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            content = json.dumps(content)
        path.write_text(content)
        path.chmod(0o644)
    for rel, target in substitute(case.get("links", {}), ctx).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    for dirpath, dirnames, dummy in os.walk(root):  # whatever the umask
        for name in dirnames:
            path = pathlib.Path(dirpath, name)
            if not path.is_symlink():
                path.chmod(0o755)
    for rel, mode in case.get("modes", {}).items():
        (root / rel).chmod(octal(mode))


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["id"] for c in TABLE["cases"]])
def test_case(case, tmp_path, monkeypatch):
    tmp = str(tmp_path)
    kdir_rel = case.get("kdir", DEFAULT_KDIR)
    ctx = {"tmp": tmp, "python": os.path.join(tmp, DEFAULT_PYTHON), "kdir": os.path.join(tmp, kdir_rel)}
    kdir = tmp_path / kdir_rel
    pwds = users(tmp)
    build_tree(tmp_path, case, ctx)
    before = snapshot(tmp_path)

    monkeypatch.setattr(ks, "SYSTEM_KERNELS_DIR", os.path.join(tmp, "usr/local/share/jupyter/kernels"))

    def getpwnam(name):
        if name not in pwds:
            raise KeyError("getpwnam(): name not found: %r" % name)
        return pwds[name]

    monkeypatch.setattr(ks, "pwd", types.SimpleNamespace(getpwnam=getpwnam))
    euid = case.get("euid", "self")
    monkeypatch.setattr(ks, "_euid", lambda: os.geteuid() if euid == "self" else euid)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg, **kw: warnings.append(msg))

    params = substitute(case["params"], ctx)
    result = run_module(ks, params, commands=expected_commands(case, ctx),
                        check_mode=case.get("check_mode", False), diff=case.get("diff", False),
                        monkeypatch=monkeypatch)
    exp = substitute(case["expect"], ctx)
    after = snapshot(tmp_path)

    assert result["failed"] is exp.get("failed", False), result
    for part in exp.get("msg", []) if isinstance(exp.get("msg"), list) else [exp.get("msg", "")]:
        assert part in result["msg"], result["msg"]
    if result["failed"] or case.get("check_mode") or exp.get("unchanged"):
        assert after == before, "the tree changed"
    if result["failed"]:
        return

    assert result["changed"] is exp["changed"]
    assert result["path"] == str(kdir)
    assert result["name"] == os.path.basename(kdir_rel)
    if "spec" in exp:
        assert result["spec"] == exp["spec"]
    for part in exp.get("actions", []):
        assert any(part in a for a in result["actions"]), result["actions"]
    assert bool(result["actions"]) is result["changed"]
    for part in exp.get("warnings", []):
        assert any(part in w for w in warnings), warnings
    if "warnings" not in exp:
        assert not warnings

    kjson = kdir / "kernel.json"
    if "kernel_json" in exp:
        text = kjson.read_text()
        assert json.loads(text) == exp["kernel_json"]
        if exp["written"]:
            # jupyter's layout (indent=1) with sorted keys and a trailing newline
            assert text == json.dumps(exp["kernel_json"], indent=1, sort_keys=True) + "\n"
        else:
            rel = str(kjson.relative_to(tmp_path))
            assert after[rel][2] == before[rel][2], "kernel.json was rewritten"
    for rel, content in exp.get("files", {}).items():
        assert (tmp_path / rel).read_text() == content, rel
    for name, content in exp.get("logos", {}).items():
        assert (kdir / name).read_text() == content, name
    for rel in exp.get("missing", []):
        assert not os.path.lexists(tmp_path / rel), rel
    for rel, mode in exp.get("modes", {}).items():
        assert stat.S_IMODE((tmp_path / rel).lstat().st_mode) == octal(mode), rel
    # no temp file left behind
    assert not [p for p in after if p.endswith(".tmp")]

    if case.get("diff"):
        d = result["diff"]
        assert d["before_header"] == d["after_header"] == str(kjson)
        assert d["before"] == exp["diff"]["before"]
        assert d["after"] == exp["diff"]["after"]
    else:
        assert "diff" not in result


def test_system_wide_location_is_usr_local():
    """The guide's option 2: ipykernel install --prefix /usr/local."""
    assert ks.SYSTEM_KERNELS_DIR == "/usr/local/share/jupyter/kernels"


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(ks.DOCUMENTATION)
    assert set(doc["options"]) == {
        "name", "state", "display_name", "language", "python", "argv", "env", "metadata", "interrupt_mode",
        "prefix", "user"}
    yaml.safe_load(ks.EXAMPLES)
    yaml.safe_load(ks.RETURN)


# The probe script runs for real here, against fake ipykernel packages laid out like the real one.

FAKE_INSTALL = '''
import json, os, shutil, tempfile, sys
RESOURCES = os.path.join(os.path.dirname(__file__), "resources")
def install(kernel_spec_manager=None, user=False, kernel_name="python3", display_name=None, prefix=None,
            profile=None, env=None):
    path = os.path.join(tempfile.mkdtemp(suffix="_kernels"), kernel_name)
    shutil.copytree(RESOURCES, path)
    with open(os.path.join(path, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": display_name, "language": "python",
                   "metadata": {"debugger": True}, "kernel_protocol_version": "5.5"}, f, indent=1)
    dest = kernel_spec_manager.install_kernel_spec(path, kernel_name=kernel_name, user=user, prefix=prefix)
    shutil.rmtree(path)
    return dest
'''


def fake_ipykernel(root: pathlib.Path, kernelspec_source):
    pkg = root / "site" / "ipykernel"
    (pkg / "resources").mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '9.9.9'\n")
    if kernelspec_source is not None:
        (pkg / "kernelspec.py").write_text(kernelspec_source)
    (pkg / "resources" / "logo-32x32.png").write_bytes(b"\x89PNG 32")
    (pkg / "resources" / "logo-64x64.png").write_bytes(b"\x89PNG 64")
    (pkg / "resources" / "other.txt").write_text("not a logo")
    return root / "site"


def run_probe(site, tmpdir):
    env = dict(os.environ, PYTHONPATH=str(site), TMPDIR=str(tmpdir), LC_ALL="C")
    # -S: the standard library and `site` only, not the test environment's own packages
    # (which has a real ipykernel, from JupyterLab).
    proc = subprocess.run([sys.executable, "-S", "-c", ks.PROBE], env=env, capture_output=True, text=True, cwd="/", check=False)
    return proc


def test_probe_reports_what_ipykernel_install_writes(tmp_path):
    site = fake_ipykernel(tmp_path, FAKE_INSTALL)
    staging = tmp_path / "staging"
    staging.mkdir()
    proc = run_probe(site, staging)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["version"] == "9.9.9"
    assert info["path"] == str(site / "ipykernel")
    assert info["kernel"]["argv"][1:] == ["-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert info["kernel"]["kernel_protocol_version"] == "5.5"
    assert {k: base64.b64decode(v) for k, v in info["logos"].items()} == {
        "logo-32x32.png": b"\x89PNG 32", "logo-64x64.png": b"\x89PNG 64"}
    # ipykernel's install() leaves the mkdtemp() parent behind; the probe removes it
    assert list(staging.iterdir()) == []


def test_probe_without_install_falls_back_to_resources(tmp_path):
    site = fake_ipykernel(tmp_path, "raise ImportError('no jupyter_client')\n")
    proc = run_probe(site, tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["kernel"] is None
    assert "no jupyter_client" in info["kernel_error"]
    assert set(info["logos"]) == {"logo-32x32.png", "logo-64x64.png"}


def test_probe_fails_without_ipykernel(tmp_path):
    proc = run_probe(tmp_path, tmp_path)
    assert proc.returncode == 1
    assert "No module named" in proc.stderr and "ipykernel" in proc.stderr


@pytest.mark.parametrize("x, y, equal", [
    ({"debugger": True}, {"debugger": True}, True),
    ({"debugger": True}, {"debugger": 1}, False),
    ({"n": 0}, {"n": False}, False),
    ({"n": 1}, {"n": 1.0}, True),
    (["a", "b"], ["b", "a"], False),
    ({"a": [1]}, {"a": [1], "b": None}, False),
    ({"a": {"b": "c"}}, {"a": "c"}, False),
])
def test_json_equal(x, y, equal):
    assert ks.json_equal(x, y) is equal
    assert ks.json_equal(y, x) is equal
