"""Adoption: a host set up by hand from the guide, then taken over by the site playbook
(the adopt scenario: molecule/adopt/guide_by_hand.sh set it up, guide_users.py used it and
recorded in /root/adopt-before.json what the takeover must keep; converge and idempotence
have run since).

Nothing users had is lost (bob's token, the sessions' cookie secret, the database, kept
copies of what was replaced), notebooks that ask for the guide's kernel run in the shared
environment, the admin's own nginx location still answers, and what the guide left behind is gone: its location
and map in the admin's site, the proxy the hub started itself on port 8000, its unit.
The host's restart comes last.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlsplit

import pytest
import requests

from hub import ARTIFACTS, TIMEOUT, Kernel, logged_in, wait_until
from sitecli import run_site

pytestmark = pytest.mark.adopt

RECORD = "/root/adopt-before.json"
STATE = "/var/lib/jupyterhub"
BACKUPS = f"{STATE}/backups"
# The guide's kernel: notebooks of its time ask for "python", for which jupyter_client starts
# the "python3" kernel, now the shared environment's (venv manager) with the guide's display
# name; the guide's own "python" spec is gone.
GUIDE_KERNEL, KERNEL, DISPLAY_NAME = "python", "python3", "Python (default)"
SHARED_PREFIX = "/opt/jupyter-envs/python"
UNIT_LINK = "/etc/systemd/system/jupyterhub.service"
UNIT_FILE = "/opt/jupyterhub/etc/systemd/jupyterhub.service"
ADMIN_SITE = "/etc/nginx/sites-available/default"
PROXY_PORT, PROXY_UNIT = 8000, "configurable-http-proxy.service"
SPAWN_TIMEOUT = 180

# Run on the host: sha256, mode and owner of the files that match the given globs.
FILES = r"""
import glob, hashlib, json, os, pwd, sys
out = {}
for pattern in sys.argv[1:]:
    for path in sorted(glob.glob(pattern)):
        st = os.stat(path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        out[path] = {"sha256": digest, "mode": "%04o" % (st.st_mode & 0o7777), "owner": pwd.getpwuid(st.st_uid).pw_name}
print(json.dumps(out))
"""

# Run on the host: what a kept copy of the hub's database holds (read-only).
DB_CONTENT = r"""
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
users = sorted(r[0] for r in db.execute("SELECT name FROM users"))
noted = sorted(r[0] for r in db.execute(
    "SELECT u.name FROM api_tokens t JOIN users u ON t.user_id = u.id WHERE t.note = ?", (sys.argv[2],)))
print(json.dumps({"users": users, "token_owners": noted}))
"""

# Run on the host: the TCP sockets listening on a port (/proc/net/tcp{,6}, state 0A) with
# their owner's uid, and every configurable-http-proxy process with its uid and cgroup. (Which
# process holds a socket cannot be read here: a container has no CAP_SYS_PTRACE, so root
# cannot look into the fds of the proxy's own account.)
PORT_AND_PROXIES = r"""
import json, os, sys
port = int(sys.argv[1])
sockets = []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        f = row.split()
        if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
            sockets.append({"inode": f[9], "uid": int(f[7])})
proxies = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) == os.getpid():
        continue
    try:
        cmd = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
        cgroup = open("/proc/%s/cgroup" % pid).read().split()
        uid = os.stat("/proc/%s" % pid).st_uid
    except OSError:
        continue
    if "configurable-http-proxy" in cmd:
        proxies.append({"pid": int(pid), "uid": uid, "cgroup": cgroup, "cmd": cmd[:200]})
print(json.dumps({"sockets": sockets, "proxies": proxies}))
"""


@pytest.fixture(scope="module")
def before(target) -> dict:
    """What guide_users.py recorded before the takeover."""
    return json.loads(target.exec("cat", RECORD).stdout)


def files(target, *patterns: str) -> dict:
    return json.loads(target.exec("python3", "-c", FILES, *patterns).stdout)


def exists(target, path: str) -> bool:
    return target.exec("test", "-e", path, check=False).returncode == 0


def token_user(target, token: str) -> requests.Response:
    return requests.get(target.url + "hub/api/user", headers={"Authorization": f"token {token}"},
                        timeout=TIMEOUT, verify=target.verify)


def kernelspecs(session) -> dict:
    r = session.api("GET", f"user/{session.user}/api/kernelspecs")
    assert r.status_code == 200, f"{session.user}'s kernelspecs: {r.status_code} {r.text[:300]}"
    return r.json()["kernelspecs"]


def runs_the_managed_kernel(session) -> None:
    """The kernel a notebook from the guide's time asks for runs in the shared environment."""
    kernel = Kernel(session, GUIDE_KERNEL)
    try:
        prefix = kernel.execute("import sys; print(sys.prefix)").strip()
        assert prefix == SHARED_PREFIX, (
            f"{session.user}'s {GUIDE_KERNEL!r} kernel runs in {prefix}, not in the managed {SHARED_PREFIX}")
        out = kernel.execute("print(6*7)").strip()
        assert out == "42", f"{session.user}'s {GUIDE_KERNEL!r} kernel printed {out!r}"
    finally:
        kernel.shutdown()


def test_bobs_token_made_by_hand_still_authenticates(target, before):
    r = token_user(target, before["bob_token"])
    assert r.status_code == 200, f"bob's token from before the takeover: {r.status_code} {r.text[:300]}"
    assert r.json()["name"] == "bob", r.json()


def test_the_database_and_cookie_secret_moved_into_the_state_directory(target, before):
    left = [p for p in ("/jupyterhub.sqlite", "/jupyterhub_cookie_secret") if exists(target, p)]
    assert not left, f"still where the guide's hub kept them: {left}"
    state = files(target, f"{STATE}/jupyterhub.sqlite", f"{STATE}/jupyterhub_cookie_secret")
    assert f"{STATE}/jupyterhub.sqlite" in state, f"no database in {STATE}: {state}"
    secret = state.get(f"{STATE}/jupyterhub_cookie_secret")
    assert secret, f"no cookie secret in {STATE}: {state}"
    assert secret["sha256"] == before["cookie_secret_sha256"], "the cookie secret is not the hand-made hub's"


def test_the_originals_are_kept_root_only(target, before):
    kept = files(target, f"{BACKUPS}/jupyterhub.sqlite.adopted-*", f"{BACKUPS}/jupyterhub_cookie_secret.adopted-*")
    dbs = [p for p in kept if "/jupyterhub.sqlite.adopted-" in p]
    secrets = [p for p in kept if "/jupyterhub_cookie_secret.adopted-" in p]
    # Once: the idempotence run took nothing over again.
    assert len(dbs) == 1 and len(secrets) == 1, f"kept copies in {BACKUPS}: {sorted(kept)}"
    for path, info in kept.items():
        assert info["mode"] == "0600" and info["owner"] == "root", f"{path}: {info}"
    assert kept[secrets[0]]["sha256"] == before["cookie_secret_sha256"], f"{secrets[0]} is not the hub's cookie secret"
    # The hub wrote to its database after the record was made (activity; stopping alice's
    # server as it was stopped for the takeover), so the kept copy is checked for what it
    # holds; its checksum only tells whether it was written since.
    content = json.loads(target.exec("python3", "-c", DB_CONTENT, dbs[0], "made by hand").stdout)
    assert {"alice", "bob"} <= set(content["users"]), f"{dbs[0]} users: {content['users']}"
    assert content["token_owners"] == ["bob"], f"{dbs[0]}: tokens noted 'made by hand' belong to {content['token_owners']}"
    same = kept[dbs[0]]["sha256"] == before["db_sha256"]
    print(f"{dbs[0]}: {'identical to' if same else 'written to since'} the database recorded before the takeover")


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_users_log_in_spawn_and_run_the_managed_python_kernel(target, before, user):
    session = logged_in(target, user)
    session.spawn(timeout=SPAWN_TIMEOUT)
    specs = kernelspecs(session)
    assert KERNEL in specs and GUIDE_KERNEL not in specs, f"{user}'s kernels: {sorted(specs)}"
    spec = specs[KERNEL]["spec"]
    assert spec["display_name"] == DISPLAY_NAME, spec
    assert spec["argv"][0] == f"{SHARED_PREFIX}/bin/python", f"the {KERNEL!r} kernel is not the managed one: {spec['argv']}"
    runs_the_managed_kernel(session)
    if user == "alice":
        old = before["alice_server_pid"]
        running = old in target.pids("alice", "jupyterhub-singleuser")
        print(f"alice's server from before the takeover (PID {old}): {'still running' if running else 'gone'}")


def test_the_admins_own_location_still_answers(target):
    r = requests.get(target.other_url, timeout=30, allow_redirects=False)
    assert r.status_code == 200 and "admin's wiki" in r.text, (
        f"{target.other_url}: {r.status_code} {r.headers.get('Location', '')} {r.text[:200]!r}")


def test_plain_http_to_the_hub_redirects_to_https(target):
    r = requests.get(target.http_url + "hub/login", timeout=30, allow_redirects=False)
    assert r.status_code in (301, 302, 307, 308), f"{target.http_url}hub/login: {r.status_code} {r.text[:200]!r}"
    location = urlsplit(r.headers["Location"])
    assert location.scheme == "https" and location.path == urlsplit(target.url).path + "hub/login", r.headers["Location"]


def test_the_guides_location_in_the_admins_site_is_taken_over(target):
    site = target.exec("cat", ADMIN_SITE).stdout
    assert "proxy_pass http://127.0.0.1:8000" not in site, f"{ADMIN_SITE} still proxies to the guide's port:\n{site}"
    assert "$connection_upgrade" not in site, f"{ADMIN_SITE} still has the guide's map or header:\n{site}"
    assert "include /etc/nginx/snippets/jupyterhub.conf;" in site, f"{ADMIN_SITE} does not include the hub's location:\n{site}"
    assert "location /wiki/" in site and "server_name _;" in site, f"the admin's own lines are gone:\n{site}"


def test_only_the_proxy_service_listens_on_the_public_proxy_port(target):
    found = json.loads(target.exec("python3", "-c", PORT_AND_PROXIES, str(PROXY_PORT)).stdout)
    assert len(found["sockets"]) == 1, f"sockets listening on {PROXY_PORT}: {found}"
    # The hand-made hub's own proxy is gone: the one proxy left is the service's ...
    assert len(found["proxies"]) == 1, f"configurable-http-proxy processes: {found['proxies']}"
    proxy = found["proxies"][0]
    assert any(line.endswith(f"/{PROXY_UNIT}") for line in proxy["cgroup"]), (
        f"PID {proxy['pid']} ({proxy['cmd']}) runs outside {PROXY_UNIT}: {proxy['cgroup']}")
    # ... and the socket is its account's.
    assert found["sockets"][0]["uid"] == proxy["uid"], f"the socket on {PROXY_PORT} is not the proxy's: {found}"
    # ... on loopback: the published port leads nowhere.
    with pytest.raises(requests.ConnectionError):
        requests.get(target.direct_url, timeout=10)


def test_the_hubs_unit_is_the_collections(target):
    link = target.exec("readlink", UNIT_LINK).stdout.strip()
    assert link == UNIT_FILE, f"{UNIT_LINK} -> {link!r}"
    unit = target.exec("cat", UNIT_FILE).stdout
    assert f"WorkingDirectory={STATE}" in unit, f"{UNIT_FILE} is not the collection's unit:\n{unit}"


def test_the_takeover_cut_users_off_once_for_a_measured_time(target):
    """molecule/adopt/probe.py asked the hub through nginx twice a second from before the
    converge on: the takeover is one gap, between the old hub's stop and the new hub's start."""
    samples = [line.split() for line in target.exec("cat", "/root/adopt-probe.log").stdout.splitlines() if line.strip()]
    ok = [status == "200" for _t, status in samples]
    assert ok and ok[0], f"the hand-made hub did not answer when the probe started: {samples[:3]}"
    assert ok[-1], f"the hub does not answer at the end: {samples[-3:]}"
    gaps, start = [], None
    for (t, status), good in zip(samples, ok):
        if not good and start is None:
            start, first = float(t), status
        elif good and start is not None:
            gaps.append((start, float(t), first))
            start = None
    report = "; ".join(f"{b - a:.1f} s from {a:.0f} (first answer: {first})" for a, b, first in gaps)
    print(f"\nadopt: users were cut off {len(gaps)} time(s): {report}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"adopt-interruption-{target.container}.txt").write_text(report + "\n")
    assert len(gaps) == 1, f"the takeover should cut users off once, not {len(gaps)} times: {report}"


# Last (tests run in the order they are written): the host restarts.
def test_after_a_restart_of_the_host_tokens_and_kernels_still_work(target, before):
    subprocess.run(["docker", "restart", "-t", "30", target.container], check=True, capture_output=True, timeout=180)
    wait_until(lambda: requests.get(target.url + "hub/login", timeout=3, verify=target.verify).status_code == 200,
               180, interval=1, what="the hub back after the restart")
    for unit in ("jupyterhub.service", PROXY_UNIT, "nginx.service"):
        state = target.exec("systemctl", "is-active", unit, check=False).stdout.strip()
        assert state == "active", f"{unit} after the restart: {state}"
    r = token_user(target, before["bob_token"])
    assert r.status_code == 200 and r.json()["name"] == "bob", f"bob's token after the restart: {r.status_code} {r.text[:300]}"
    alice = logged_in(target, "alice")
    alice.spawn(timeout=SPAWN_TIMEOUT)
    runs_the_managed_kernel(alice)
    r = requests.get(target.other_url, timeout=30, allow_redirects=False)
    assert r.status_code == 200 and "admin's wiki" in r.text, f"{target.other_url} after the restart: {r.status_code}"
    alice.stop()


# After everything else: the admin's site that served the hub since the takeover.
@pytest.mark.site_runs
def test_uninstall_leaves_the_admins_site_loading_and_answering(target):
    run = run_site(target, None, playbook="uninstall.yml")
    assert run.returncode == 0, f"uninstall failed:\n{(run.stdout + run.stderr)[-3000:]}"
    site = target.exec("cat", ADMIN_SITE).stdout
    assert "include /etc/nginx/snippets/jupyterhub.conf;" not in site, f"{ADMIN_SITE} still includes the removed snippet:\n{site}"
    assert "location /wiki/" in site and "server_name _;" in site, f"the admin's own lines are gone:\n{site}"
    test = target.exec("nginx", "-t", check=False)
    assert test.returncode == 0, f"nginx rejects its configuration after the uninstall: {test.stderr}"
    assert target.exec("systemctl", "is-active", "nginx.service", check=False).stdout.strip() == "active"
    r = requests.get(target.other_url, timeout=30, allow_redirects=False)
    assert r.status_code == 200 and "admin's wiki" in r.text, f"{target.other_url} after the uninstall: {r.status_code}"
