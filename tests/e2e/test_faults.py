"""Faults a real server sees: it keeps working.

Timings are printed (pytest -s, or the verify log) and written to
$BMJH_ARTIFACTS/faults-<container>.json for the closing notes.
"""

import json
import subprocess
import time

import pytest
import requests

from hub import ARTIFACTS, Kernel, logged_in, wait_until
from sitecli import run_site

pytestmark = pytest.mark.faults
LIMIT = 10.0  # seconds a service may take to come back


def _record(target, name, seconds):
    path = ARTIFACTS / f"faults-{target.container}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = round(seconds, 2)
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    print(f"{target.container}: {name} {seconds:.2f} s")


@pytest.fixture(scope="module")
def alice(target):
    return logged_in(target, "alice", spawn=True)


def _main_pid(target, unit):
    return int(target.exec("systemctl", "show", "-p", "MainPID", "--value", unit).stdout.strip())


def _kill_9(target, pid):
    # minimal images have no kill(1)
    target.exec("python3", "-c", f"import os, signal; os.kill({pid}, signal.SIGKILL)")


def test_kill_9_of_the_hub(target, alice):
    kernel = Kernel(alice, "python3")
    try:
        server_pids = target.pids("alice", "jupyterhub-singleuser")
        old = _main_pid(target, "jupyterhub.service")
        _kill_9(target, old)
        start = time.monotonic()
        # The user's server and the open kernel websocket keep working meanwhile: the proxy
        # is a separate service and the server is not the hub's to stop.
        assert kernel.execute("print('still here')").strip() == "still here"
        assert alice.api("GET", "user/alice/api/status").status_code == 200
        wait_until(lambda: alice.http.get(alice.url("hub/api/"), timeout=2).status_code == 200, 30, what="hub back")
        back = time.monotonic() - start
        _record(target, "hub_kill9_back_s", back)
        assert _main_pid(target, "jupyterhub.service") not in (0, old)
        assert back <= LIMIT, f"the hub took {back:.1f} s to come back"
        assert target.pids("alice", "jupyterhub-singleuser") == server_pids
        assert alice.server()["ready"]
        assert kernel.execute("print(1 + 1)").strip() == "2"
    finally:
        kernel.shutdown()


def test_kill_9_of_the_proxy(target, alice):
    status = "user/alice/api/status"
    assert alice.api("GET", status).status_code == 200
    old = _main_pid(target, "configurable-http-proxy.service")
    _kill_9(target, old)
    start = time.monotonic()
    wait_until(lambda: alice.api("GET", status, timeout=2).status_code == 200, 30, interval=0.2,
               what="the user's route back")
    back = time.monotonic() - start
    _record(target, "proxy_kill9_routes_back_s", back)
    assert _main_pid(target, "configurable-http-proxy.service") not in (0, old)
    assert back <= LIMIT, f"users' routes took {back:.1f} s to come back"


def test_restart_of_the_whole_host(target):
    """The test host is a container: restarting it restarts the whole system."""
    start = time.monotonic()
    subprocess.run(["docker", "restart", "-t", "30", target.container], check=True, capture_output=True, timeout=120)
    wait_until(lambda: requests.get(target.url + "hub/login", timeout=3, verify=target.verify).status_code == 200,
               180, interval=1, what="the hub back after the restart")
    _record(target, "host_restart_hub_back_s", time.monotonic() - start)
    for unit in ("jupyterhub.service", "configurable-http-proxy.service", "nginx.service"):
        assert target.exec("systemctl", "is-active", unit, check=False).stdout.strip() == "active", unit
    bob = logged_in(target, "bob", spawn=True)
    kernel = Kernel(bob, "python3")
    try:
        assert kernel.execute("print('after restart')").strip() == "after restart"
    finally:
        kernel.shutdown()
        bob.stop()


@pytest.mark.site_runs
def test_nginx_config_broken_by_hand(targets):
    broken = "/etc/nginx/conf.d/zz-broken-by-hand.conf"
    for target in targets:
        target.exec("sh", "-c", f"echo 'this is not nginx configuration;' > {broken}")
    try:
        run = run_site(targets)
        output = run.stdout + run.stderr
        assert run.returncode != 0, "the run went on with a broken nginx configuration"
        for target in targets:
            failure = [line for line in output.splitlines() if line.startswith(f"fatal: [{target.container}]")]
            assert failure and "nginx rejects the configuration" in failure[-1], f"{target.container}: {failure}"
            assert "[emerg]" in failure[-1] and "zz-broken-by-hand.conf" in failure[-1], failure[-1]
            # The previously working configuration keeps serving.
            r = requests.get(target.url + "hub/login", timeout=10, verify=target.verify)
            assert r.status_code == 200
    finally:
        for target in targets:
            target.exec("rm", "-f", broken)
