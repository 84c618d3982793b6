"""Run the site playbook against a target from the tests, and take snapshots of what the
collection manages on it, to prove a failed run changed nothing.

verify.yml sets BMJH_INVENTORY (molecule's inventory), BMJH_PLAYBOOK (the scenario's
converge playbook) and BMJH_ANSIBLE_PLAYBOOK; tests that need them are marked
`site_runs` and fail without them (deselect with -m "not site_runs"). The admin's runs over
SSH use BMJH_ADMIN_ANSIBLE_PLAYBOOK (the ssh scenario's: ansible-core 2.16) where it is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

# What the collection writes, and what must not move when a run is refused.
HASHED_ROOTS = [
    "/etc/nginx", "/etc/systemd/system", "/etc/configurable-http-proxy", "/etc/profile.d",
    "/opt/jupyterhub/etc", "/opt/jupyterhub/share/jupyter/kernels", "/var/lib/jupyterhub",
    "/usr/local/share/jupyter/kernels", "/opt/conda/.condarc",
]
LISTED_DIRS = ["/opt", "/opt/jupyter-envs", "/opt/jupyterhub/bin", "/opt/configurable-http-proxy/lib/node_modules"]
UNITS = ["jupyterhub.service", "configurable-http-proxy.service", "nginx.service"]

_SNAPSHOT = r'''
import glob, hashlib, json, os, subprocess, sys
hashed, listed, units = json.loads(sys.argv[1])
out = {}
def visit(p):
    if os.path.islink(p):
        out[p] = "link:" + os.readlink(p)
    elif os.path.isfile(p):
        if p.endswith((".sqlite", ".sqlite-journal")):  # the hub writes activity there
            return
        st = os.stat(p)
        with open(p, "rb") as f:
            out[p] = "%s %o %d:%d" % (hashlib.sha256(f.read()).hexdigest(), st.st_mode, st.st_uid, st.st_gid)
for root in hashed:
    if os.path.isfile(root) or os.path.islink(root):
        visit(root)
    for d, dirs, files in os.walk(root):
        for n in files + dirs:
            visit(os.path.join(d, n))
for d in listed + glob.glob("/opt/jupyterhub/lib/python3*/site-packages") + glob.glob("/opt/jupyter-envs/*/lib/python3*/site-packages"):
    if os.path.isdir(d):
        out[d + "/"] = sorted(os.listdir(d))
for u in units:
    show = subprocess.run(["systemctl", "show", "-p", "ActiveState,UnitFileState,MainPID,ExecMainStartTimestampMonotonic", u],
                          capture_output=True, text=True).stdout
    out["unit:" + u] = show.split()
print(json.dumps(out))
'''


def snapshot(target) -> dict:
    """Checksums, modes and owners of the managed files, listings of the install trees,
    and the state and main PID of our units."""
    raw = target.exec("python3", "-c", _SNAPSHOT, json.dumps([HASHED_ROOTS, LISTED_DIRS, UNITS])).stdout
    return json.loads(raw)


def diff(before: dict, after: dict) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in keys if before.get(k) != after.get(k)]


def run_site(targets, extra_vars: dict | None = None, *args: str, timeout: int = 900,
             playbook: str | None = None) -> subprocess.CompletedProcess:
    """ansible-playbook <the scenario's converge playbook> --limit <targets> [-e @vars] [args].

    `targets` is one target or a list: the hosts run in parallel, as in a real run.
    `playbook` runs another of the collection's playbooks (e.g. "uninstall.yml") instead,
    with the same inventory."""
    targets = targets if isinstance(targets, (list, tuple)) else [targets]
    env = os.environ
    missing = [k for k in ("BMJH_INVENTORY", "BMJH_PLAYBOOK") if not env.get(k)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run from molecule verify, or deselect with -m 'not site_runs'")
    if playbook:
        playbook = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "playbooks", playbook)
    cmd = [env.get("BMJH_ANSIBLE_PLAYBOOK", "ansible-playbook"), "-i", env["BMJH_INVENTORY"],
           playbook or env["BMJH_PLAYBOOK"], "--limit", ",".join(t.container for t in targets), *args]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(extra_vars or {}, f)
    try:
        # The caller looks at the return code: a refused run is what some tests want.
        return subprocess.run(cmd + ["-e", "@" + f.name], capture_output=True, text=True, timeout=timeout, check=False,
                              env=dict(env, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true"))
    finally:
        os.unlink(f.name)


def run_admin(playbook: str, extra_vars: dict | None = None, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run one of the collection's playbooks as an admin does, over SSH with the admin's
    inventory (BMJH_ADMIN_INVENTORY, written by the ssh scenario), from the checkout and
    without molecule's settings in the environment."""
    inventory = os.environ.get("BMJH_ADMIN_INVENTORY")
    if not inventory:
        pytest.fail("BMJH_ADMIN_INVENTORY not set: run from the ssh scenario's verify, or deselect with -m 'not day2_ops'")
    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ansible_playbook = os.environ.get("BMJH_ADMIN_ANSIBLE_PLAYBOOK") or os.environ.get("BMJH_ANSIBLE_PLAYBOOK", "ansible-playbook")
    clean_env = {"PATH": os.path.dirname(ansible_playbook) + ":/usr/bin:/bin", "HOME": os.environ["HOME"],
                 "ANSIBLE_FORCE_COLOR": "false", "ANSIBLE_NOCOLOR": "true"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(extra_vars or {}, f)
    try:
        return subprocess.run([ansible_playbook, os.path.join("playbooks", playbook), "-i", inventory, "-e", "@" + f.name, *args],
                              cwd=project, capture_output=True, text=True, timeout=timeout, check=False, env=clean_env)
    finally:
        os.unlink(f.name)


def recap(run: subprocess.CompletedProcess, host: str) -> dict:
    """The PLAY RECAP counters of one host: {'ok': 12, 'changed': 0, ...}."""
    for line in run.stdout.splitlines():
        if line.startswith(host + " ") and ": ok=" in line:
            return {k: int(v) for k, v in (pair.split("=") for pair in line.split(":", 1)[1].split())}
    raise AssertionError(f"no recap for {host} in:\n{run.stdout[-2000:]}")
