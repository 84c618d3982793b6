"""conda_env, driven by the case table conda_env_cases.yml.

Each case gives the module's parameters, the files and directories that exist on the "host"
(under pytest's tmp_path), the executables that exist, and the commands the module must run in
order with conda's canned answers (files under tests/unit/fixtures/conda/, see its README).
Placeholders: {tmp} is tmp_path, {exe} the executable, {P} the case's prefix, {py} the Python
next to the executable and {helper} the program conda_env runs with it (conda_ask.HELPER).
"""

from __future__ import annotations

import pathlib
import shlex

import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.baremetal.jupyterhub.plugins.module_utils import conda as conda_utils
from ansible_collections.baremetal.jupyterhub.plugins.module_utils import conda_ask
from ansible_collections.baremetal.jupyterhub.plugins.modules import conda_env
from modrun import Cmd, run_module, substitute

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "fixtures" / "conda"
CASES = yaml.safe_load((HERE / "conda_env_cases.yml").read_text())
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


def _fixture(name, names, replace):
    text = (FIXTURES / name).read_text()
    for old, new in (replace or {}).items():
        text = text.replace(old, substitute(new, names))
    return text


def _argv(argv, names):
    """A command line as a string (split like a shell does) or, when quoting is awkward, a list."""
    argv = substitute(argv, names)
    return argv if isinstance(argv, list) else shlex.split(argv)


def _commands(case, names):
    commands = []
    for spec in case.get("commands", []):
        argv = _argv(spec["argv"], names)
        out = _fixture(spec["out"], names, case.get("replace")) if spec.get("out") else ""
        err = _fixture(spec["err"], names, case.get("replace")) if spec.get("err") else ""
        data = substitute(spec["data"], names) if "data" in spec else None
        commands.append(Cmd(argv, rc=spec.get("rc", 0), out=out, err=err, data=data, environ_update=C_LOCALE))
    return commands


def _prepare_host(case, tmp_path, names, monkeypatch):
    for env in case.get("envs", []):
        meta = tmp_path / env / "conda-meta"
        meta.mkdir(parents=True)
        (meta / "history").write_text("==> 2024-10-01 12:00:00 <==\n")
    for directory in case.get("dirs", []):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "data.txt").write_text("not a conda environment\n")
    for path, content in (case.get("files") or {}).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    present = set(substitute(case.get("executables", ["/opt/conda/bin/conda"]), names))
    on_path = substitute(case.get("on_path", {}), names)
    monkeypatch.setattr(conda_utils, "_is_executable", lambda path: path in present)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, arg, required=False, opt_dirs=None: on_path.get(arg))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_conda_env(case, tmp_path, monkeypatch):
    names = {"tmp": str(tmp_path)}
    names["exe"] = substitute(case.get("exe", "/opt/conda/bin/conda"), names)
    names["P"] = substitute(case.get("prefix", "{tmp}/envs/python"), names)
    names["py"] = "/opt/conda/bin/python"
    names["helper"] = getattr(conda_ask, "HELPER", "")
    _prepare_host(case, tmp_path, names, monkeypatch)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning: warnings.append(warning))

    params = substitute(case["params"], names)
    result = run_module(conda_env, params, commands=_commands(case, names),
                        check_mode=case.get("check_mode", False), diff=case.get("diff", False),
                        monkeypatch=monkeypatch)

    expect = substitute(case["expect"], names)
    assert result["failed"] is expect.get("failed", False), result.get("msg")
    if "changed" in expect:
        assert result["changed"] is expect["changed"], result.get("msg")
    for text in expect.get("msg", []):
        assert text in result["msg"], result["msg"]
    for text in expect.get("warnings", []):
        assert any(text in warning for warning in warnings), warnings
    if expect.get("no_warnings"):
        assert not warnings
    for key, value in (expect.get("result") or {}).items():
        assert result[key] == value, key
    if "installed" in expect:
        assert sorted(rec["name"] for rec in result["installed"]) == sorted(expect["installed"])
    for key in ("LINK", "UNLINK"):
        if key in expect:
            assert result["actions"][key] == expect[key]
    if "diff" in expect:
        assert result["diff"]["before"] == expect["diff"]["before"]
        assert result["diff"]["after"] == expect["diff"]["after"]
    if case.get("commands") and not expect.get("failed"):
        assert result["cmd"] == [_argv(c["argv"], names) for c in case["commands"]]


ENV_FILES = sorted({text for case in CASES for text in (case.get("files") or {}).values()})


@pytest.mark.parametrize("text", ENV_FILES)
def test_env_file_reader_without_pyyaml(text, tmp_path, monkeypatch):
    """Hosts without PyYAML read the same environment.yml files the cases use."""
    path = tmp_path / "environment.yml"
    path.write_text(text)
    with_yaml = _read_or_error(path)
    monkeypatch.setattr(conda_env, "HAS_YAML", False)
    assert _read_or_error(path) == with_yaml


def _read_or_error(path):
    try:
        return conda_env.read_env_file(str(path))
    except conda_env.EnvFileError:
        return "invalid"
