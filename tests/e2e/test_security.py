"""Nothing open that should be closed: root-only secrets that never show in a run's
output, no group/other-writable install trees, only nginx (and sshd) listening beyond
loopback, TLS 1.2+ only, and a sandboxed proxy.
"""

import datetime
import email.utils
import json
import os
import pathlib
import re
import socket
import ssl
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from hub import ARTIFACTS, LISTENERS, Kernel, beyond_loopback, logged_in, wait_until
from sitecli import run_site

STATE = "/var/lib/jupyterhub"
HUB_SECRETS = [f"{STATE}/jupyterhub_cookie_secret", f"{STATE}/offboarding.env"]
SECRETS = HUB_SECRETS + ["/etc/configurable-http-proxy/auth.env"]
# systemd-analyze security's exposure of an unprivileged hub's unit, at most.
UNPRIVILEGED_HUB_EXPOSURE = 6.3
TREES = ["/opt/jupyterhub", "/opt/jupyter-envs", "/opt/conda", "/opt/configurable-http-proxy"]


def _hub_user(target):
    """The account the hub's unit runs as (jupyterhub_hub_user)."""
    return target.exec("systemctl", "show", "-p", "User", "--value", "jupyterhub.service").stdout.strip() or "root"


def _tls_key(target):
    site = target.exec("cat", "/etc/nginx/sites-enabled/jupyterhub.conf").stdout
    m = re.search(r"ssl_certificate_key\s+(\S+);", site)
    assert m, "no ssl_certificate_key in the hub's nginx site"
    return m.group(1)


def _stat(target, path):
    return target.exec("stat", "-c", "%a %U %G", path).stdout.split()


def test_secrets_are_private_to_their_owner(target):
    """The proxy's token and the TLS key are root's; the hub's state is its account's
    (root, or jupyterhub_hub_user), 0600 in a 0700 directory."""
    hub = _hub_user(target)
    for path in [p for p in SECRETS if p not in HUB_SECRETS] + ([_tls_key(target)] if target.url.startswith("https:") else []):
        assert _stat(target, path) == ["600", "root", "root"], path
    for path in HUB_SECRETS + [f"{STATE}/jupyterhub.sqlite"]:
        assert _stat(target, path) == ["600", hub, hub], path
    assert _stat(target, STATE) == ["700", hub, hub]


def test_install_trees_belong_to_root_and_nobody_else_can_write_them(target):
    """What the collection installs is root's, and the hub's state its account's; none of it
    is writable by group or others."""
    hub = _hub_user(target)
    trees = [t for t in TREES if target.exec("test", "-e", t, check=False).returncode == 0]
    assert {"/opt/jupyterhub", "/opt/configurable-http-proxy"} <= set(trees)
    not_root = target.exec("find", *trees, "(", "!", "-user", "root", "-o", "!", "-group", "root", ")", "-print").stdout.split()
    # The backups of the database that upgrades leave are root's, in the hub's state.
    not_hubs = target.exec("find", STATE, "-path", f"{STATE}/backups", "-prune", "-o",
                           "(", "!", "-user", hub, "-o", "!", "-group", hub, ")", "-print").stdout.split()
    writable = target.exec("find", *trees, STATE, "-perm", "/022", "!", "-type", "l", "-print").stdout.split()
    print(target.container, f"{len(not_root)} not root's, {len(not_hubs)} of the state not {hub}'s, "
          f"{len(writable)} writable by group or others")
    assert not not_root, f"{len(not_root)} files not owned by root:root: {not_root[:20]}"
    assert not not_hubs, f"{len(not_hubs)} files of the hub's state not owned by {hub}: {not_hubs[:20]}"
    assert not writable, f"{len(writable)} files writable by group or others: {writable[:20]}"


EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_users_cannot_read_each_others_work(target):
    """alice's home is hers alone (jupyterhub_venv_home_mode) and what her server writes is
    private (jupyterhub_venv_server_umask): bob, another user of the hub, reads none of it."""
    alice = logged_in(target, "alice", spawn=True)
    name = f"bmjh-private-{uuid.uuid4().hex[:8]}.ipynb"
    r = alice.api("PUT", f"user/alice/api/contents/{name}", json={"type": "notebook", "content": EMPTY_NOTEBOOK})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    try:
        home = _stat(target, "/home/alice")
        notebook = _stat(target, f"/home/alice/{name}")
        read = target.exec("cat", f"/home/alice/{name}", user="bob", check=False)
        listed = target.exec("ls", "/home/alice", user="bob", check=False)
    finally:
        alice.api("DELETE", f"user/alice/api/contents/{name}")
    assert home[0] == "700" and home[1] == "alice", home
    assert notebook == ["600", "alice", "alice"], notebook
    assert read.returncode != 0 and "Permission denied" in read.stderr, (read.returncode, read.stdout[:100], read.stderr)
    assert listed.returncode != 0, listed.stdout


def test_every_cookie_is_secure_httponly_and_samesite_lax(target):
    """The cookies a user gets on the way to JupyterLab (the hub's _xsrf, its login and
    session cookies, the user's server's own) are sent over HTTPS only and never with
    another site's requests."""
    if not target.url.startswith("https:"):
        pytest.skip("target is not behind HTTPS")
    seen = []

    def record(response, *args, **kwargs):
        seen.extend(response.raw.headers.getlist("Set-Cookie"))

    session = logged_in(target, "alice", spawn=True)
    session.http.hooks["response"].append(record)
    session.http.cookies.clear()
    assert session.login().status_code == 200
    r = session.http.get(session.url("user/alice/lab"), timeout=60)
    assert r.status_code == 200 and "/user/alice/" in r.url, (r.status_code, r.url)
    names = {header.split("=", 1)[0] for header in seen}
    assert {"_xsrf", "jupyterhub-session-id", "jupyterhub-hub-login", "jupyterhub-user-alice"} <= names, seen
    for header in seen:
        flags = {flag.strip().lower() for flag in header.split(";")[1:]}
        expires = [email.utils.parsedate_to_datetime(f.split("=", 1)[1]) for f in flags if f.startswith("expires=")]
        if "max-age=0" in flags or (expires and expires[0] < datetime.datetime.now(datetime.timezone.utc)):
            continue  # a cookie being cleared
        assert {"secure", "samesite=lax"} <= flags, header


def test_each_users_server_is_a_unit_of_its_own_with_its_own_tmp(target):
    """The default spawner (systemd): alice's and bob's servers are units of their own, and
    a file alice's kernel leaves in /tmp is not in bob's."""
    config = target.exec("cat", "/opt/jupyterhub/etc/jupyterhub/jupyterhub_config.py").stdout
    if "SystemdSpawner" not in config:
        pytest.skip("this site runs the local spawner (jupyterhub_venv_spawner: local)")
    alice, bob = logged_in(target, "alice", spawn=True), logged_in(target, "bob", spawn=True)
    for user in ("alice", "bob"):
        props = dict(line.split("=", 1) for line in target.exec(
            "systemctl", "show", "-p", "ActiveState,PrivateTmp", f"jupyter-{user}-singleuser.service").stdout.splitlines())
        assert props == {"ActiveState": "active", "PrivateTmp": "yes"}, (user, props)
    mark = f"bmjh-{uuid.uuid4().hex}"
    kernels = [Kernel(alice, "python3"), Kernel(bob, "python3")]
    try:
        assert kernels[0].execute(f"open('/tmp/{mark}', 'w').write('x'); import os; print(os.path.exists('/tmp/{mark}'))").strip() == "True"
        assert kernels[1].execute(f"import os; print(os.path.exists('/tmp/{mark}'))").strip() == "False"
    finally:
        for kernel in kernels:
            kernel.shutdown()


def test_security_updates_apply_themselves(target):
    """unattended-upgrades is installed, its daily run is on, and it runs on this host."""
    periodic = target.exec("apt-config", "dump", "APT::Periodic").stdout
    assert 'APT::Periodic::Update-Package-Lists "1";' in periodic, periodic
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic, periodic
    assert target.exec("systemctl", "is-enabled", "apt-daily-upgrade.timer", check=False).stdout.strip() == "enabled"
    run = target.exec("unattended-upgrade", "--dry-run", check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-2000:]


def test_with_the_firewall_on_only_ssh_and_the_web_ports_get_in(target):
    """jupyterhub_firewall: a server listening on every address (port 8099, published on
    the host) answers inside the host but not from outside, while HTTPS does; SSH is
    allowed (the day-2 tests then run the site over it)."""
    if not target.firewalled:
        pytest.skip("no firewalled port published for this target")
    status = target.exec("ufw", "status", "verbose").stdout
    assert "Status: active" in status and "Default: deny (incoming)" in status, status
    allowed = [line.split() for line in status.splitlines() if "ALLOW IN" in line and "(v6)" not in line]
    rules = {(rule[0], rule[3]) for rule in allowed}
    # The hub's port from the network the scenario names (firewall_hub_from), from nowhere else.
    assert rules == {("22/tcp", "Anywhere"), ("80/tcp", "Anywhere"), ("443/tcp", "Anywhere"),
                     ("8081/tcp", "172.31.250.0/24")}, status
    target.exec("systemd-run", "--unit=bmjh-listener", "--", "python3", "-m", "http.server", "8099", "--bind", "0.0.0.0")
    try:
        wait_until(lambda: target.exec("python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8099/')",
                                       check=False).returncode == 0, timeout=30, what="the listener to answer inside the host")
        with pytest.raises(requests.RequestException):
            requests.get(f"http://{target.firewalled}/", timeout=5)
        assert requests.get(target.url + "hub/login", timeout=30, verify=target.verify).status_code == 200
    finally:
        target.exec("systemctl", "stop", "bmjh-listener", check=False)


def test_only_nginx_and_sshd_listen_beyond_loopback(target):
    listeners = json.loads(target.exec("python3", "-c", LISTENERS).stdout)
    public = sorted({port for _addr, port in beyond_loopback(listeners)})
    assert set(public) <= {22, 80, 443}, f"listening beyond loopback: {public}"
    loopback = {port for addr, port in listeners if addr in ("127.0.0.1", "::1")}
    assert {8000, 8001, 8081} <= loopback, f"the hub, the proxy and its API should listen on loopback: {sorted(loopback)}"


def test_a_users_kernel_talks_to_her_server_over_unix_sockets_only_she_can_reach(target):
    """alice's IPython kernel talks to her server over Unix sockets in her private runtime
    folder, not over five ports on 127.0.0.1 that the server picks and that anyone starting
    at the same moment could take, or any account connect to. (ipykernel still binds one
    port of its own for its forked subprocesses' output, atomically, and checks a secret on
    each message.)"""
    alice = logged_in(target, "alice", spawn=True)
    kernel = Kernel(alice, "python3")
    try:
        transport, ip, ports, mode = json.loads(kernel.execute(
            "import json, os, stat; from ipykernel.connect import get_connection_file as f;"
            " c = json.load(open(f()));"
            " ports = [c[k + '_port'] for k in ('shell', 'iopub', 'stdin', 'control', 'hb')];"
            " modes = [stat.S_ISSOCK(os.stat(f\"{c['ip']}-{p}\").st_mode) for p in ports] if c['transport'] == 'ipc' else [];"
            " print(json.dumps([c['transport'], c['ip'], modes, oct(os.stat(os.path.dirname(f())).st_mode & 0o777)]))"))
    finally:
        kernel.shutdown()
    assert transport == "ipc" and ip.startswith("/home/alice/"), (transport, ip)
    assert ports == [True] * 5, "the five channels should be Unix sockets next to the connection file"
    assert mode == "0o700", f"alice's runtime folder is {mode}"


def _handshake(target, version):
    parts = urlsplit(target.url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # the client offers old versions; only the server may refuse
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection((parts.hostname, parts.port or 443), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=parts.hostname) as tls:
            return tls.version()


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_versions_are_refused_by_the_server(target, version):
    if not target.url.startswith("https:"):
        pytest.skip("not HTTPS")
    with pytest.raises(ssl.SSLError) as err:
        _handshake(target, getattr(ssl.TLSVersion, version))
    # The server's protocol_version alert, not a client that could not offer the version.
    assert "ALERT_PROTOCOL_VERSION" in str(err.value) or "alert protocol version" in str(err.value), str(err.value)


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_tls_1_2_and_1_3_are_accepted(target, version):
    if not target.url.startswith("https:"):
        pytest.skip("not HTTPS")
    assert _handshake(target, getattr(ssl.TLSVersion, version)) == version.replace("_", ".")


def test_units_sandboxing_is_reported_and_the_proxy_is_ok(target):
    report = {}
    for unit in ("configurable-http-proxy.service", "jupyterhub.service"):
        last = target.exec("systemd-analyze", "security", "--no-pager", unit).stdout.strip().splitlines()[-1]
        m = re.search(r"exposure level for \S+: ([0-9.]+) (\w+)", last)
        assert m, last
        report[unit] = {"exposure": float(m.group(1)), "rating": m.group(2)}
    path = ARTIFACTS / f"systemd-security-{target.container}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(target.container, report)
    assert report["configurable-http-proxy.service"]["rating"] in ("OK", "SAFE", "PERFECT"), report
    assert target.exec("systemctl", "show", "-p", "User", "--value", "configurable-http-proxy.service").stdout.strip() != "root"
    if _hub_user(target) != "root":
        # An unprivileged hub's unit is sandboxed (jupyterhub_hub_user): 6.3 on systemd 252
        # (a root hub: 7.8). It cannot go lower while sudo starts users' servers: for a unit
        # that does not run as root, every seccomp-based setting implies NoNewPrivileges.
        assert report["jupyterhub.service"]["exposure"] <= UNPRIVILEGED_HUB_EXPOSURE, report


def test_an_unprivileged_hub_runs_in_a_sandbox_that_users_servers_share(target):
    """jupyterhub_hub_user: the hub and its idle culler run as that account, not root; alice's
    server and kernel run as alice in the hub's sandbox: the system is read-only to them
    (her home is not), no capability beyond the ones sudo needs, the hub's process hidden."""
    hub = _hub_user(target)
    if hub == "root":
        pytest.skip("this site's hub runs as root (jupyterhub_hub_user: root)")
    main_pid = int(target.exec("systemctl", "show", "-p", "MainPID", "--value", "jupyterhub.service").stdout)
    assert target.pids(hub, "bin/jupyterhub -f") == [main_pid]
    assert target.pids(hub, "jupyterhub_idle_culler"), "the idle culler does not run as the hub's account"
    assert not target.pids("root", "jupyterhub_idle_culler") and not target.pids("root", "bin/jupyterhub")
    alice = logged_in(target, "alice", spawn=True)
    assert target.pids("alice", "jupyterhub-singleuser")
    kernel = Kernel(alice, "python3")
    try:
        seen = json.loads(kernel.execute(
            "import json, os, pwd\n"
            "ro = {p: bool(os.statvfs(p).f_flag & os.ST_RDONLY) for p in ('/usr', '/etc', '/opt', '/var', os.path.expanduser('~'))}\n"
            "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapBnd')][0]\n"
            f"print(json.dumps({{'user': pwd.getpwuid(os.getuid()).pw_name, 'ro': ro, 'caps': caps, 'hub': os.path.exists('/proc/{main_pid}')}}))"
        ))
    finally:
        kernel.shutdown()
    home = next(p for p in seen["ro"] if p.startswith("/home"))
    assert seen["user"] == "alice", seen
    assert seen["ro"] == {"/usr": True, "/etc": True, "/opt": True, "/var": True, home: False}, seen
    # CAP_SETGID (6) and CAP_SETUID (7), which sudo needs to become a user, and no other.
    assert int(seen["caps"], 16) == (1 << 6) | (1 << 7), seen
    assert seen["hub"] is False, seen


@pytest.mark.site_runs
def test_secrets_never_show_in_the_output_of_a_run(targets):
    """A run with --diff and -v that would change the hub's config (check mode, so it shows
    the config's diff without changing the host), and the logs of the real runs when the
    harness kept them ($BMJH_RUN_LOGS: converge and idempotence)."""
    secrets = []
    for target in targets:
        secrets += [target.exec("cat", path).stdout.strip().split("=", 1)[-1] for path in SECRETS]
        secrets += [line for line in target.exec("cat", _tls_key(target)).stdout.splitlines()
                    if line and not line.startswith("-----")][:3]
    run = run_site(targets, {"jupyterhub_venv_spawner_http_timeout": 119}, "--check", "--diff", "-v")
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "+c.Spawner.http_timeout = 119" in run.stdout, "the run should show the config's diff"
    output = run.stdout + run.stderr
    for log in filter(None, os.environ.get("BMJH_RUN_LOGS", "").split(os.pathsep)):
        output += pathlib.Path(log).read_text(errors="replace")
    assert all(len(secret) >= 32 for secret in secrets)
    leaked = [secret[:8] + "..." for secret in secrets if secret in output]
    assert not leaked, f"secrets appear in the output of a run: {leaked}"


def test_an_unprivileged_hubs_sudo_rule_reaches_its_users_only(target):
    """The sudospawner rule: as the hub's listed users only; never root (by any name) nor a
    system account (www-data, the proxy's), no variable of the hub's choosing."""
    hub = _hub_user(target)
    if hub == "root":
        pytest.skip("this site's hub runs as root (jupyterhub_hub_user: root)")
    mediator = "/opt/jupyterhub/bin/sudospawner"
    proxy = target.exec("systemctl", "show", "-p", "User", "--value", "configurable-http-proxy.service").stdout.strip()
    for argv in (["-u", "root", mediator], ["-u", "#0", mediator], ["-u", "www-data", mediator], ["-u", proxy, mediator],
                 ["-u", "alice", "LD_PRELOAD=/tmp/x.so", mediator], ["-E", "-u", "alice", mediator]):
        r = target.exec("runuser", "-u", hub, "--", "sudo", "-n", *argv, check=False)
        assert r.returncode != 0 and "sudo:" in r.stderr, f"sudo {' '.join(argv)}: {r.returncode} {r.stderr}"
    rules = [line.strip() for line in target.exec("runuser", "-u", hub, "--", "sudo", "-n", "-l").stdout.splitlines()
             if line.startswith("    (")]
    assert rules == [f"(alice, bob, carol, !root, !#0) NOSETENV: NOPASSWD: {mediator}"], rules
