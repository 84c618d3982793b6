"""Conflicts on the host itself are refused before anything changes.

Unlike a bad setting (test_bad_input.py), these are found by looking at the host: another
nginx site that is the default server on our ports, a `location` for the hub's path that is
not the guide's, a port of the hub's taken by another program. Each run also asks for a
change that the roles before the conflicting one would make (a line more in the hub's
config, which would restart the hub): a play that found the conflict late would have made
it, and its "nothing was changed" would be false. So after each refused run, every file the
collection manages and the state and main PID of our units must be as they were.
"""

import re

import pytest

from sitecli import diff, recap, run_site, snapshot

pytestmark = pytest.mark.site_runs

SITE = "/etc/nginx/sites-enabled/zz-bmjh-conflict.conf"
SQUATTER = "bmjh-conflict-squatter"
# What the jupyterhub_venv role (which runs before nginx's) would change.
EARLIER_CHANGE = {"jupyterhub_venv_extra_config": "# a change the first role would make\n"}

CASES = {
    "another-default-server": dict(
        site="server {\n    listen 80 default_server;\n    server_name other.test;\n    return 200 'other';\n}\n",
        vars={},
        expect=["reverse_proxy_default_server", "zz-bmjh-conflict.conf", "already is the default server", "nothing was changed"]),
    "foreign-location-for-the-hubs-path": dict(
        site="server {\n    listen 8089;\n    location /jupyter/ {\n        return 200 'mine';\n    }\n}\n",
        vars={},
        expect=["not the bare-metal guide's", "zz-bmjh-conflict.conf lines 3-5", "location /jupyter/ {",
                "it holds 'return'", "nothing was changed"]),
    "hub-port-taken": dict(
        squatter=["python3", "-m", "http.server", "--bind", "127.0.0.1", "8099"],
        vars={"jupyterhub_hub_port": 8099},
        expect=["jupyterhub_hub_port: port 8099 is taken by python3", f"{SQUATTER}.service", "nothing was changed"]),
}

WAIT_FOR_PORT = """
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("nothing listens on port %s" % sys.argv[1])
"""


def set_up(target, case):
    if "site" in case:
        target.exec("python3", "-c", "import sys; open(sys.argv[1], 'w').write(sys.argv[2])", SITE, case["site"])
    if "squatter" in case:
        target.exec("systemd-run", f"--unit={SQUATTER}", *case["squatter"])
        target.exec("python3", "-c", WAIT_FOR_PORT, "8099")


def tear_down(target):
    target.exec("rm", "-f", SITE)
    target.exec("systemctl", "stop", f"{SQUATTER}.service", check=False)


@pytest.mark.parametrize("name", list(CASES))
def test_a_conflict_on_the_host_is_refused_before_any_change(targets, name):
    case = CASES[name]
    try:
        for target in targets:
            set_up(target, case)
        before = {t.container: snapshot(t) for t in targets}
        run = run_site(targets, dict(EARLIER_CHANGE, **case["vars"]))
        after = {t.container: snapshot(t) for t in targets}
    finally:
        for target in targets:
            tear_down(target)
    output = run.stdout + run.stderr
    assert run.returncode != 0, f"the play went ahead:\n{output[-3000:]}"
    for target in targets:
        failure = "\n".join(line for line in output.splitlines()
                            if line.startswith((f"fatal: [{target.container}]", f"failed: [{target.container}]")))
        for pattern in case["expect"]:
            assert re.search(re.escape(pattern), failure), f"{pattern!r} not in {target.container}'s failure:\n{failure[-3000:]}"
        assert recap(run, target.container)["changed"] == 0, f"the refused run reported changes on {target.container}"
        changes = diff(before[target.container], after[target.container])
        assert not changes, f"the refused run changed {target.container}:\n" + "\n".join(changes[:40])
