"""The walking skeleton, end to end: PAM login over HTTP, spawn, JupyterLab, the access
policy, and a hub restart that users' running servers survive."""

import json

import pytest

from hub import HubSession, Kernel, wait_until

# Set in molecule's inventory: alice is allowed, carol is an admin listed nowhere else,
# mallory exists on the host with a valid password but is not allowed.
ALLOWED, ADMIN_ONLY, NOT_ALLOWED = "alice", "carol", "mallory"


@pytest.fixture(scope="module")
def alice(target):
    s = HubSession(target, ALLOWED)
    r = s.login()
    assert r.status_code == 200 and s.logged_in, f"login failed: {r.status_code} {r.url}"
    return s


def test_units_are_active_and_enabled(target):
    for unit in ("jupyterhub.service", "configurable-http-proxy.service"):
        assert target.exec("systemctl", "is-active", unit, check=False).stdout.strip() == "active", unit
        assert target.exec("systemctl", "is-enabled", unit, check=False).stdout.strip() in ("enabled", "linked"), unit


def test_allowed_user_logs_in_spawns_and_gets_jupyterlab(alice):
    server = alice.spawn()
    assert server["ready"]
    # The user's URL lands on JupyterLab (the default UI), through the proxy.
    r = alice.http.get(alice.url(f"user/{ALLOWED}/"), timeout=60)
    assert r.status_code == 200, r.status_code
    assert r.url.endswith(f"/user/{ALLOWED}/lab"), r.url
    assert '"appName": "JupyterLab"' in r.text
    # ... and the server runs as that user.
    assert alice.target.pids(ALLOWED, "jupyterhub-singleuser"), "no jupyterhub-singleuser process runs as the user"


def test_the_hub_notices_a_new_server_as_soon_as_it_listens(target, alice):
    """jupyterhub_venv_spawner_wait_for_port: the spawner waits for the server's port, so the
    hub's first check finds it up. Without it the hub checks at random intervals that grow
    to 5 s, and notices a server that listens after ~3 s up to seconds later."""
    alice.stop()
    cursor = target.exec("journalctl", "--show-cursor", "-n", "0", "-q").stdout.strip().rpartition("cursor: ")[2]
    alice.spawn()
    entries = [json.loads(line) for line in target.exec(
        "journalctl", "--after-cursor", cursor, "-o", "json", "--output-fields=MESSAGE").stdout.splitlines()]

    def when(text: str) -> float:
        hits = [int(e["__REALTIME_TIMESTAMP"]) / 1e6 for e in entries if text in str(e.get("MESSAGE", ""))]
        assert hits, f"no journal line with {text!r}"
        return hits[-1]

    # The server logs its URL once it listens; the hub logs the spawn once its check passed.
    listening = when(f"/user/{ALLOWED}/lab?token=")
    noticed = when(f"User {ALLOWED} took ")
    assert 0 <= noticed - listening < 1.0, f"the hub noticed the server {noticed - listening:.2f} s after it listened"


# Run as a user in the container: start a Jupyter Server from the hub's venv (so with the
# config users' servers read) with a `node` first on PATH that logs its arguments, list
# the extensions and the language servers, stop it, print what node was asked.
_NODE_PROBE = r'''
import json, os, pathlib, re, subprocess, sys, tempfile, time, urllib.request
os.chdir(os.path.expanduser("~"))
probe = pathlib.Path(tempfile.mkdtemp(prefix="node-probe-"))
calls, log = probe / "calls", probe / "server.log"
(probe / "node").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec /usr/bin/node "$@"\n')
(probe / "node").chmod(0o755)
env = dict(os.environ, PATH=f"{probe}:/usr/local/bin:/usr/bin:/bin")
with open(log, "w") as out:
    server = subprocess.Popen([sys.prefix + "/bin/jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
                               "--ServerApp.port=0", "--ServerApp.port_retries=0"], env=env, stdout=out, stderr=out)
found, deadline = None, time.monotonic() + 60
while not found and time.monotonic() < deadline and server.poll() is None:
    time.sleep(0.1)
    found = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=(\w+)", log.read_text())
answers = {}
if found:
    base, token = found.groups()
    for path in ("lab/api/extensions", "lsp/status"):
        req = urllib.request.Request(base + path, headers={"Authorization": "token " + token})
        with urllib.request.urlopen(req, timeout=60) as r:
            answers[path] = r.status
server.terminate()
server.wait(30)
print(json.dumps({"listened": bool(found), "answers": answers, "log": log.read_text()[-2000:],
                  "node": calls.read_text().splitlines() if calls.exists() else []}))
'''


def test_a_users_server_starts_without_running_node(target):
    """jupyterhub_venv_lab_npm_registry and jupyterhub_venv_lsp_npm_prefix: JupyterLab and
    jupyter-lsp would run node (`yarn.js config`, `npm prefix -g`) at each start, about 1 s
    of CPU each, only to learn where npm packages live; the config gives them that."""
    run = json.loads(target.exec("/opt/jupyterhub/bin/python", "-c", _NODE_PROBE, user=ALLOWED).stdout)
    assert run["listened"], f"the server did not start:\n{run['log']}"
    # The extension list (JupyterLab asks for the registry again there) and the language
    # server status (answered once jupyter-lsp has looked for servers) both answer ...
    assert run["answers"] == {"lab/api/extensions": 200, "lsp/status": 200}, run
    # ... and node never ran.
    assert run["node"] == [], f"node ran while a user's server started: {run['node']}"


def test_admin_listed_alone_can_log_in(target):
    carol = HubSession(target, ADMIN_ONLY)
    r = carol.login()
    assert r.status_code == 200 and carol.logged_in, f"{ADMIN_ONLY} refused: {r.status_code} {r.url}"
    assert carol.user_model()["admin"] is True


def test_user_outside_the_allowed_set_is_refused(target):
    mallory = HubSession(target, NOT_ALLOWED)
    assert target.exec("id", NOT_ALLOWED, check=False).returncode == 0, "the refused user must exist on the host"
    r = mallory.login()
    assert r.status_code == 403, r.status_code
    assert not mallory.logged_in


def test_wrong_password_is_refused(target):
    s = HubSession(target, ALLOWED)
    r = s.login("not-" + ALLOWED + "-pw")
    assert r.status_code == 403, r.status_code
    assert not s.logged_in


def test_hub_restart_keeps_running_servers(target, alice):
    before = alice.spawn()
    pid_before = target.pids(ALLOWED, "jupyterhub-singleuser")
    assert pid_before
    status_url = f"user/{ALLOWED}/api/status"
    assert alice.api("GET", status_url).status_code == 200

    target.exec("systemctl", "restart", "jupyterhub.service")
    # While the hub starts again, the proxy keeps routing to the user's server.
    assert alice.api("GET", status_url, timeout=10).status_code == 200

    wait_until(lambda: alice.http.get(alice.url("hub/api/"), timeout=5).status_code == 200, 60, what="hub back")
    after = alice.server()
    assert after and after["ready"], after
    assert after["started"] == before["started"], "the server was spawned again"
    pid_after = target.pids(ALLOWED, "jupyterhub-singleuser")
    assert pid_after == pid_before
    # The browser session still reaches JupyterLab.
    r = alice.http.get(alice.url(f"user/{ALLOWED}/lab"), timeout=30)
    assert r.status_code == 200 and '"appName": "JupyterLab"' in r.text
    # ... and the server still starts kernels that can write their output and /tmp.
    kernel = Kernel(alice, "python3")
    try:
        assert kernel.execute("import tempfile; print(tempfile.mkstemp()[1].startswith('/tmp/'))").strip() == "True"
    finally:
        kernel.shutdown()
