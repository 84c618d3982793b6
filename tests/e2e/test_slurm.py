"""Users' servers as Slurm jobs (the slurm scenario: the hub host is the cluster's
controller, bmjh-slurm-node1 and -node2 its compute nodes, each in its own network namespace
on the scenario's cluster network, 172.31.203.0/24, where the hub is 172.31.203.10).

Everything a user does goes through nginx over HTTPS; what Slurm did is read on the
controller with squeue. The order matters: alice's job is started, restarted around,
then stopped; bob's requests are refused, then his idle server is culled; mallory's job
fails.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import time

import pytest
import requests

from hub import ARTIFACTS, LISTENERS, TIMEOUT, HubSession, Kernel, beyond_loopback, logged_in, wait_until

pytestmark = pytest.mark.slurm

NODES = ("bmjh-slurm-node1", "bmjh-slurm-node2")
START_TIMEOUT = 120  # jupyterhub_venv_spawner_start_timeout in molecule/slurm
CULL_AFTER = 60 + 10  # jupyterhub_venv_idle_culler_timeout + _every
SINGLEUSER = "/opt/jupyterhub/bin/jupyterhub-singleuser"
NODE_PORTS = (50000, 50099)  # jupyterhub_venv_slurm_node_ports in molecule/slurm
HUB_IP = "172.31.203.10"  # jupyterhub_hub_ip in molecule/slurm
CLUSTER_NET = "172.31.203.0/24"  # molecule/slurm's network


def on_node(node: str, *argv: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", *(["-u", user] if user else []), node, *argv], check=check,
                          capture_output=True, text=True, timeout=60)


def assert_server_answers(session: HubSession) -> None:
    """The user's server is ready in the hub's eyes and a kernel of it runs code."""
    assert session.server() and session.server()["ready"]
    kernel = Kernel(session, "python3")
    try:
        assert kernel.execute("print(6 * 7)").strip() == "42"
    finally:
        kernel.shutdown()


def keep_active(session: HubSession) -> None:
    """Tell the hub the user's server is in use now (as the server itself does every few
    minutes), so that the scenario's idle culler (60 s) leaves it alone in a long test."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    r = session.api("POST", f"hub/api/users/{session.user}/activity", json={"servers": {"": {"last_activity": now}}})
    assert r.status_code == 200, r.text


def test_the_cluster_shows_jobs_to_their_owners_only(target, alice):
    """PrivateData=jobs, as shared clusters set it (prepare.yml): bob's squeue lists none of
    alice's jobs, yet the hub (which asks as each user) starts and tracks them (every test below)."""
    r = alice.api("POST", "hub/api/users/alice/server", json={"cpus": 1, "memory": "512M", "time": 10})
    assert r.status_code in (201, 202), r.text
    try:
        wait_until(lambda: (alice.server() or {}).get("ready"), START_TIMEOUT, what="alice's server ready")
        [job] = jobs(target, "alice")
        assert target.exec("runuser", "-u", "bob", "--", "squeue", "-h", "-o", "%i").stdout.split() == []
        assert target.exec("runuser", "-u", "jupyterhub", "--", "squeue", "-h", "-o", "%i").stdout.split() == []
        assert job["id"] in target.exec("runuser", "-u", "alice", "--", "squeue", "-h", "-o", "%i").stdout.split()
    finally:
        alice.stop()
    wait_until(lambda: jobs(target, "alice") == [], 30, what="alice's job gone from the queue")


def jobs(target, user: str) -> list[dict]:
    """The user's jobs as the controller sees them."""
    out = target.exec("squeue", "-h", "-u", user, "-o", "%i|%T|%N|%C|%m|%l|%j").stdout
    keys = ("id", "state", "node", "cpus", "memory", "time", "name")
    return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.strip()]


def spawn_form(session: HubSession, **fields) -> requests.Response:
    """Submit the spawn page's form as a browser does."""
    return session.http.post(session.url("hub/spawn"), data={"_xsrf": session.hub_xsrf(), **fields}, timeout=TIMEOUT)


def progress_events(session: HubSession, timeout: float) -> list[dict]:
    """The spawn's progress events (as the spawn page shows them) until it ends."""
    r = session.http.get(session.url(f"hub/api/users/{session.user}/server/progress"), stream=True, timeout=timeout,
                         headers={"Authorization": f"token {session.api_token()}"})
    events = []
    for line in r.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            events.append(json.loads(line[5:]))
            if events[-1].get("ready") or events[-1].get("failed"):
                break
    return events


def test_the_hub_may_submit_and_cancel_as_its_users_and_nothing_else(target):
    """The unprivileged hub's sudo rules: sbatch (keeping the job's variables by name) and
    scancel of one job number, as the hub's users; not another command, not as root, slurm,
    munge or any other system account, no variable of the hub's choosing."""

    def as_hub(*argv):
        # The hub's environment holds the job's variables, and one it may not pass on.
        return target.exec("runuser", "-u", "jupyterhub", "--", "env", "JUPYTERHUB_API_TOKEN=t", "JUPYTERHUB_API_URL=u",
                           "SLURM_CONF=/tmp/evil.conf", "sudo", "-n", *argv, check=False)

    assert "sudo:" not in as_hub("-u", "alice", "/usr/bin/scancel", "999999").stderr
    assert "sudo:" not in as_hub("-u", "alice", "/usr/bin/squeue", "-h", "-j", "999999", "-o", "%T %S %B %r").stderr
    # The job's variables pass, by name (what the Slurm spawner runs): sbatch itself answers.
    kept = as_hub("-u", "alice", "/usr/bin/sbatch", "--parsable")
    assert "sudo:" not in kept.stderr and "Batch script is empty" in kept.stderr, kept.stderr
    refused = [
        ("--preserve-env=SLURM_CONF", "-u", "alice", "/usr/bin/sbatch", "--parsable"),
        ("--preserve-env=JUPYTERHUB_API_TOKEN,SLURM_CONF", "-u", "alice", "/usr/bin/sbatch", "--parsable"),
        ("-u", "alice", "/usr/bin/squeue"),
        ("-u", "alice", "/usr/bin/squeue", "-h", "-j", "1", "-o", "%T %S %B %r", "-u", "bob"),
        ("-u", "alice", "/usr/bin/id"),
        ("-u", "alice", "/bin/sh", "-c", "id"),
        ("-u", "alice", "/usr/bin/scancel", "--user=bob"),
        ("-u", "alice", "/usr/bin/scancel", "1", "--signal=KILL"),
        ("-u", "alice", "/usr/bin/scancel", "1 --signal=KILL"),
        ("-u", "alice", "/usr/bin/sbatch", "--wrap", "id"),
        ("-E", "-u", "alice", "/usr/bin/scancel", "1"),
        ("-E", "-u", "alice", "/usr/bin/sbatch", "--parsable"),
        ("-u", "alice", "LD_PRELOAD=/tmp/x.so", "/usr/bin/sbatch", "--parsable"),
        ("-u", "root", "/usr/bin/sbatch", "--parsable"),
        ("-u", "#0", "/usr/bin/sbatch", "--parsable"),
        ("-u", "slurm", "/usr/bin/sbatch", "--parsable"),
        ("-u", "munge", "/usr/bin/sbatch", "--parsable"),
        ("-u", "www-data", "/usr/bin/sbatch", "--parsable"),
        ("-u", "jupyterhub", "/usr/bin/sbatch", "--parsable"),
    ]
    for argv in refused:
        r = as_hub(*argv)
        refusal = "sudo:" in r.stderr or "is not allowed to" in r.stderr
        assert r.returncode != 0 and refusal, f"sudo {' '.join(argv)}: {r.returncode} {r.stderr}"
    rules = [line.strip() for line in as_hub("-l").stdout.splitlines() if line.startswith("    (")]
    assert rules == ["(alice, bob, carol, mallory, !root, !#0) NOSETENV: NOPASSWD: /usr/bin/sbatch --parsable,"
                     " /usr/bin/squeue ^-h -j [0-9]+ -o %T %S %B %r$, /usr/bin/scancel ^[0-9]+$"], rules


@pytest.fixture(scope="module")
def alice(target):
    return logged_in(target, "alice")


def test_the_spawn_page_offers_the_resource_form(target, alice):
    page = alice.http.get(alice.url("hub/spawn"), timeout=TIMEOUT)
    assert page.status_code == 200
    for field in ('name="partition"', '<option value="cpu">cpu: up to 2 CPUs, 1G, 30 min</option>', 'name="cpus"',
                  'name="memory"', 'name="time"'):
        assert field in page.text
    assert jobs(target, "alice") == [], "showing the form submitted nothing"


def test_a_waiting_job_says_why_on_the_spawn_page(target):
    """Both nodes drained: carol's job waits, and the spawn page's progress says Slurm's
    reason for it; once the nodes are back, her server starts."""
    carol = logged_in(target, "carol")
    nodes = "NodeName=" + ",".join(NODES)
    target.exec("scontrol", "update", nodes, "State=DRAIN", "Reason=bmjh-e2e")
    resumed = False
    try:
        r = carol.api("POST", "hub/api/users/carol/server", json={"cpus": 1, "memory": "512M", "time": 10})
        assert r.status_code in (201, 202), r.text
        stream = carol.http.get(carol.url("hub/api/users/carol/server/progress"), stream=True, timeout=START_TIMEOUT,
                                headers={"Authorization": f"token {carol.api_token()}"})
        said, reason, last = None, None, None
        for line in stream.iter_lines(decode_unicode=True):
            if not (line and line.startswith("data:")):
                continue
            last = json.loads(line[5:])
            if last.get("ready") or last.get("failed"):
                break
            if not resumed and last.get("message", "").startswith("Waiting in Slurm's queue"):
                said = last["message"]
                [job] = jobs(target, "carol")
                reason = target.exec("squeue", "-h", "-j", job["id"], "-o", "%r").stdout.strip()
                target.exec("scontrol", "update", nodes, "State=RESUME")
                resumed = True
        assert said == f"Waiting in Slurm's queue: {reason}" and reason not in ("", "None"), (said, reason)
        assert last and last.get("ready"), last
        print(f"carol's job while the nodes were drained: {said!r}")
    finally:
        if not resumed:
            target.exec("scontrol", "update", nodes, "State=RESUME")
        carol.stop()
    wait_until(lambda: jobs(target, "carol") == [], 30, what="carol's job gone from the queue")


SQUAT = """
import socket, sys
with socket.socket() as s:
    s.bind(("0.0.0.0", int(sys.argv[1])))
    s.listen()
    while True:
        conn, peer = s.accept()
        with open("/tmp/bmjh-squatter.log", "a") as log:
            log.write(f"{peer} {conn.recv(4096)!r}\\n")
        conn.close()
"""


def test_another_user_who_takes_the_port_first_never_gets_the_victims_requests(target):
    """carol's server starts slowly (her own config sleeps 15 s); meanwhile bob, on the same
    node, binds the port her server was given. Her port is reported only once her own server
    listens: the hub never routes her to bob, and her server starts on another port."""
    config = "/home/carol/.jupyter/jupyter_server_config.py"
    target.exec("runuser", "-u", "carol", "--", "sh", "-c", f"mkdir -p /home/carol/.jupyter && echo 'import time; time.sleep(15)' > {config}")
    carol = logged_in(target, "carol")
    squatted = None
    try:
        r = carol.api("POST", "hub/api/users/carol/server", json={"cpus": 1, "memory": "512M", "time": 10})
        assert r.status_code in (201, 202), r.text

        def server_port():
            for node in NODES:
                for pid in on_node(node, "pgrep", "-u", "carol", "-f", "jupyterhub-singleuser", check=False).stdout.split():
                    env = on_node(node, "cat", f"/proc/{pid}/environ", check=False).stdout.split("\0")
                    url = next((v.split("=", 1)[1] for v in env if v.startswith("JUPYTERHUB_SERVICE_URL=")), "")
                    port = re.search(r":(\d+)/", url)
                    if port and port[1] != "0":
                        return node, int(port[1])
            return None

        node, port = wait_until(server_port, START_TIMEOUT, interval=0.5, what="carol's server given a port")
        on_node(node, "rm", "-f", "/tmp/bmjh-squatter.log")
        subprocess.run(["docker", "exec", "-d", "-u", "bob", node, "python3", "-c", SQUAT, str(port)], check=True, timeout=30)
        squatted = node
        wait_until(lambda: on_node(node, "pgrep", "-u", "bob", "-f", "bmjh-squatter", check=False).returncode == 0, 10,
                   what=f"bob listening on {node}:{port}")
        wait_until(lambda: (carol.server() or {}).get("ready"), START_TIMEOUT, interval=1, what="carol's server ready")
        assert carol.http.get(carol.url("user/carol/lab"), timeout=TIMEOUT).status_code == 200
        got = on_node(node, "cat", "/tmp/bmjh-squatter.log", check=False).stdout
        assert got == "", f"bob's listener on {node}:{port} received carol's requests:\n{got[:2000]}"
        [job] = jobs(target, "carol")
        log = target.exec("cat", f"/home/carol/jupyterhub_slurmspawner_{job['id']}.log").stdout
        assert re.search(rf"^Start 1 of 3 on port {port}: ", log, re.M), log[-3000:]
        reported = re.search(r"^Port (\d+) reported to the hub$", log, re.M)
        assert reported and int(reported[1]) != port, log[-3000:]
    finally:
        if squatted:
            on_node(squatted, "pkill", "-u", "bob", "-f", "bmjh-squatter", check=False)
        target.exec("rm", "-f", config)
        carol.stop()
    wait_until(lambda: jobs(target, "carol") == [], 30, what="carol's job gone from the queue")


def test_start_in_the_form_gives_a_job_on_a_node_and_a_kernel_there(target, alice):
    since = target.exec("date", "+%Y-%m-%d %H:%M:%S").stdout.strip()
    started = time.monotonic()
    r = spawn_form(alice, partition="cpu", cpus="1", memory="512M", time="10")
    assert r.status_code == 200 and "spawn-pending" in r.url, f"{r.url}: {r.text[:2000]}"
    events = progress_events(alice, timeout=START_TIMEOUT + 30)
    assert events and events[-1].get("ready"), events
    ready = time.monotonic()
    [job] = jobs(target, "alice")
    assert job["state"] == "RUNNING" and job["node"] in NODES, job
    # What the form asked for is what Slurm gave.
    assert (job["cpus"], job["memory"], job["time"]) == ("1", "512M", "10:00"), job
    lab = alice.http.get(alice.url("user/alice/lab"), timeout=TIMEOUT)
    assert lab.status_code == 200 and "JupyterLab" in lab.text
    kernel = Kernel(alice, "python3")
    try:
        host = kernel.execute("import socket; print(socket.gethostname())").strip()
    finally:
        kernel.shutdown()
    answered = time.monotonic()
    assert host == job["node"], f"the kernel runs on {host}, squeue says {job['node']}"
    # sudo kept the job's variables by name: it logged none of their values (the token).
    journal = target.exec("journalctl", f"--since={since}", "-o", "cat").stdout
    assert "JUPYTERHUB_API_TOKEN=" not in journal and "COMMAND=/usr/bin/sbatch --parsable" in journal
    # The node's wrapper reported the port once alice's server listened there, within the range.
    log = target.exec("cat", f"/home/alice/jupyterhub_slurmspawner_{job['id']}.log").stdout
    reported = re.search(r"^Port (\d+) reported to the hub$", log, re.M)
    assert reported and NODE_PORTS[0] <= int(reported[1]) <= NODE_PORTS[1], log[-2000:]
    line = (f"Start in the form -> server ready: {ready - started:.1f} s; -> kernel answered on {host}: "
            f"{answered - started:.1f} s (job {job['id']})\n")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "slurm-timing.txt", "a", encoding="utf-8") as f:
        f.write(line)
    print(line)


MARKER = "/var/lib/jupyterhub/bmjh-port-report-injected"
POLL_INTERVAL = 5  # c.Spawner.poll_interval in molecule/slurm

# Run in alice's kernel, in her job on a node: POST each body to the port-report route with
# her server's own token, straight to the hub (JUPYTERHUB_API_URL, internal TLS with her
# server's own certificate) and through nginx on the hub host.
REPORT_CODE = """
import json, os, ssl, urllib.request, urllib.error
token, api = os.environ["JUPYTERHUB_API_TOKEN"], os.environ["JUPYTERHUB_API_URL"]
direct = ssl.create_default_context(cafile=os.environ["JUPYTERHUB_SSL_CLIENT_CA"])
direct.load_cert_chain(os.environ["JUPYTERHUB_SSL_CERTFILE"], os.environ["JUPYTERHUB_SSL_KEYFILE"])
answers = []
for base, context in ((api, direct), ("https://HUB_IP/jupyter/hub/api", ssl._create_unverified_context())):
    for body in BODIES:
        request = urllib.request.Request(base + "/batchspawner", data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": "token " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as r:
                answers.append([base, body, r.status, r.read().decode()])
        except urllib.error.HTTPError as e:
            answers.append([base, body, e.code, e.read().decode()])
print(json.dumps(answers))
"""


def test_a_running_server_may_report_a_port_and_nothing_else(target, alice):
    """From the job itself, with the server's own token: batchspawner's route took any key of
    the spawner (exec_prefix ran through the hub's shell at its next poll). Now every key but a
    port, and a port once the server runs, gets 400, and nothing runs."""
    target.exec("rm", "-f", MARKER)
    bodies = [{"exec_prefix": f"touch {MARKER};"}, {"batch_query_cmd": f"touch {MARKER}"},
              {"job_id": f"1; touch {MARKER}"}, {"port": 4567, "exec_prefix": f"touch {MARKER};"}, {"port": 4567}]
    kernel = Kernel(alice, "python3")
    try:
        answers = json.loads(kernel.execute(REPORT_CODE.replace("BODIES", json.dumps(bodies)).replace("HUB_IP", HUB_IP)))
    finally:
        kernel.shutdown()
    assert len(answers) == 2 * len(bodies)
    assert answers[0][0].startswith(f"https://{HUB_IP}:8081/"), answers[0]
    for base, body, status, text in answers:
        assert status == 400, f"{base} {body}: {status} {text}"
    assert "reports its port and nothing else" in answers[0][3] and "the server is not starting" in answers[4][3]
    # Two of the hub's polls of alice's job later: no command ran, her server still answers.
    time.sleep(2 * POLL_INTERVAL + 2)
    assert target.exec("test", "-e", MARKER, check=False).returncode != 0, "the hub ran the injected command"
    assert alice.server() and alice.server()["ready"]
    log = target.exec("journalctl", "-u", "jupyterhub.service", "--since=-5min", "-o", "cat").stdout
    assert log.count("Port report refused for alice") >= len(answers), log[-3000:]


def test_each_host_listens_beyond_loopback_only_on_the_ports_the_readme_lists(target, alice):
    """The hub host: nginx (80, 443) and slurmctld (6817) on every address, the hub (8081) on
    the cluster network's address only; the proxy and its API on loopback. A node: slurmd
    (6818) and users' servers, within jupyterhub_venv_slurm_node_ports. alice's server runs."""
    assert alice.server() and alice.server()["ready"]
    hub = beyond_loopback(json.loads(target.exec("python3", "-c", LISTENERS).stdout))
    unexpected = {(a, p) for a, p in hub if not (p in (80, 443, 6817) and a in ("0.0.0.0", "::") or (a, p) == (HUB_IP, 8081))}
    assert (HUB_IP, 8081) in hub and not unexpected, f"the hub host listens beyond loopback on {sorted(hub)}"
    servers = 0
    for node in NODES:
        listening = beyond_loopback(json.loads(on_node(node, "python3", "-c", LISTENERS).stdout))
        servers += len({p for _a, p in listening if NODE_PORTS[0] <= p <= NODE_PORTS[1]})
        unexpected = {(a, p) for a, p in listening if p != 6818 and not NODE_PORTS[0] <= p <= NODE_PORTS[1]}
        assert not unexpected, f"{node} listens beyond loopback on {sorted(listening)}"
    assert servers >= 1, "alice's server listens on no node"


def test_a_server_outlives_slurmctld_down_for_30_s(target, alice):
    """squeue fails while the controller is down (the hub asks every 5 s): the hub keeps the
    server, and it answers before, during and after."""
    [before] = jobs(target, "alice")
    target.exec("systemctl", "stop", "slurmctld.service")
    try:
        failing = target.exec("runuser", "-u", "alice", "--", "squeue", "-h", "-j", before["id"], check=False)
        assert failing.returncode != 0 and "Unable to contact slurm controller" in failing.stderr, failing
        down_until = time.monotonic() + 30  # alice active meanwhile: the scenario's culler stops a server idle for 60 s
        while time.monotonic() < down_until:
            keep_active(alice)
            time.sleep(5)
        assert alice.server() and alice.server()["ready"], "the hub dropped alice's server while Slurm was down"
        assert alice.http.get(alice.url("user/alice/lab"), timeout=TIMEOUT).status_code == 200
    finally:
        target.exec("systemctl", "start", "slurmctld.service")
    wait_until(lambda: jobs(target, "alice") == [before], 60, what="slurmctld answers again")
    time.sleep(2 * POLL_INTERVAL)
    assert_server_answers(alice)


def test_a_hub_restart_leaves_the_jobs_server_reachable(target, alice):
    [before] = jobs(target, "alice")
    target.exec("systemctl", "restart", "jupyterhub.service")
    wait_until(lambda: alice.http.get(alice.url("hub/api/"), timeout=5).status_code == 200, 60, what="the hub answers")
    assert jobs(target, "alice") == [before], "the restart left the job alone"
    assert_server_answers(alice)


def test_a_hub_restart_during_a_start_leaves_no_job_behind(target):
    """carol's server starts slowly (her own config sleeps 15 s); the hub restarts while her job
    runs, before her server reports its port. Afterwards her job is either tracked again (her
    server ready) or gone from the queue (the restarted hub refuses the report and the node's
    wrapper ends the server): no job runs on that the hub does not know of."""
    config = "/home/carol/.jupyter/jupyter_server_config.py"
    target.exec("runuser", "-u", "carol", "--", "sh", "-c", f"mkdir -p /home/carol/.jupyter && echo 'import time; time.sleep(15)' > {config}")
    carol = logged_in(target, "carol")
    try:
        r = carol.api("POST", "hub/api/users/carol/server", json={"cpus": 1, "memory": "512M", "time": 10})
        assert r.status_code in (201, 202), r.text
        wait_until(lambda: [job["state"] for job in jobs(target, "carol")] == ["RUNNING"], START_TIMEOUT, interval=0.5,
                   what="carol's job running")
        [job] = jobs(target, "carol")
        target.exec("systemctl", "restart", "jupyterhub.service")
        wait_until(lambda: carol.http.get(carol.url("hub/api/"), timeout=5).status_code == 200, 60, what="the hub answers")

        def settled():
            listed, server = jobs(target, "carol"), carol.server() or {}
            if server.get("ready"):
                return "tracked" if listed else None
            return "gone" if not listed and not server.get("pending") else None

        outcome = wait_until(settled, START_TIMEOUT + 30, interval=1, what="carol's job tracked again or gone")
        log = target.exec("cat", f"/home/carol/jupyterhub_slurmspawner_{job['id']}.log").stdout
        if outcome == "gone":
            assert "the hub refused the port report" in log or "CANCELLED" in log, log[-3000:]
        print(f"a hub restart during carol's start: her job {job['id']} was {outcome}")
    finally:
        target.exec("rm", "-f", config)
        carol.stop()
    wait_until(lambda: jobs(target, "carol") == [], 30, what="carol's job gone from the queue")


def test_stopping_the_server_cancels_the_job(target, alice):
    [job] = jobs(target, "alice")
    alice.stop()
    wait_until(lambda: jobs(target, "alice") == [], 30, what=f"job {job['id']} gone from the queue")
    assert "cancelled" in target.exec("bash", "-c", f"cat /home/alice/jupyterhub_slurmspawner_{job['id']}.log").stdout.lower()


@pytest.mark.parametrize("fields, message", [
    ({"partition": "cpu", "cpus": "3", "memory": "512M", "time": "10"}, "CPUs: 3 is outside what this partition allows (1 to 2)"),
    ({"partition": "cpu", "cpus": "1", "memory": "2G", "time": "10"}, "memory: 2048M is more than this partition allows (1024M)"),
    ({"partition": "cpu", "cpus": "1", "memory": "512M", "time": "600"}, "wall time (minutes): 600 is outside"),
    ({"partition": "gpu", "cpus": "1", "memory": "512M", "time": "10"}, "partition &#39;gpu&#39; is not offered here"),
])
def test_a_form_past_the_limits_is_refused(target, fields, message):
    bob = logged_in(target, "bob")
    r = spawn_form(bob, **fields)
    assert message in r.text, r.text[:2000]
    assert bob.server() is None and jobs(target, "bob") == []


def test_the_rest_api_cannot_ask_past_the_limits_or_beyond_the_form(target):
    bob = logged_in(target, "bob")
    for options, message in [({"cpus": 64}, "CPUs: 64 is outside"), ({"cmd": "/bin/sh -c id"}, "unknown option 'cmd'")]:
        r = bob.api("POST", "hub/api/users/bob/server", json=options)
        assert r.status_code == 400 and message in r.json()["message"], r.text
    time.sleep(2)
    assert bob.server() is None and jobs(target, "bob") == []


def test_the_idle_culler_cancels_an_idle_servers_job(target):
    bob = logged_in(target, "bob")
    r = bob.api("POST", "hub/api/users/bob/server", json={"cpus": 1, "memory": "512M", "time": 10})
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (bob.server() or {}).get("ready"), START_TIMEOUT, what="bob's server ready")
    [job] = jobs(target, "bob")
    wait_until(lambda: bob.server() is None, CULL_AFTER + 60, interval=2, what="the culler stopped bob's idle server")
    wait_until(lambda: jobs(target, "bob") == [], 30, what=f"job {job['id']} gone from the queue")


def test_a_job_that_fails_to_start_is_reported_to_the_user(target):
    """The server cannot start on the nodes (its command is not executable there): the user
    is told, with the job's log, long before the start timeout."""
    mallory = logged_in(target, "mallory")
    for node in NODES:
        subprocess_run(node, "chmod", "0700", SINGLEUSER)
    try:
        started = time.monotonic()
        r = spawn_form(mallory, partition="cpu", cpus="1", memory="512M", time="10")
        if "spawn-pending" in r.url:
            events = progress_events(mallory, timeout=START_TIMEOUT + 30)
            assert events and events[-1].get("failed"), events
            message = events[-1]["message"]
        else:
            # It failed within the form's first second: the hub's answer to the form says why.
            assert r.status_code == 500, f"{r.status_code} {r.url}: {r.text[:2000]}"
            message = html.unescape(r.text)
        took = time.monotonic() - started
    finally:
        for node in NODES:
            subprocess_run(node, "chmod", "0755", SINGLEUSER)
    reason = re.search(r"Slurm job (\d+) ended before the server started .*? What it printed is in (\S+\.log)", message)
    assert reason, message[:2000]
    assert reason[2] == f"/home/mallory/jupyterhub_slurmspawner_{reason[1]}.log", reason[0]
    assert took < START_TIMEOUT / 2, f"reported after {took:.1f} s"
    # A reload of the spawn page tells it again.
    again = mallory.http.get(mallory.url("hub/spawn-pending/mallory"), timeout=TIMEOUT)
    assert reason[0] in html.unescape(again.text), again.text[:2000]
    assert mallory.server() is None
    # squeue lists a job that has ended until its node has finished it (COMPLETING).
    wait_until(lambda: jobs(target, "mallory") == [], 30, what="mallory's failed job gone from the queue")
    print(f"mallory's failed job reported after {took:.1f} s ({'progress' if 'spawn-pending' in r.url else 'form'}): {reason[0]}")


def subprocess_run(container: str, *argv: str) -> None:
    subprocess.run(["docker", "exec", container, *argv], check=True, capture_output=True, timeout=60)


CAPTURE = "/tmp/bmjh-cluster.pcap"
# Plain HTTP in a capture: a request line, a status line, a token in a header.
PLAIN_HTTP = re.compile(rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S* HTTP/1\.[01]\r\n|HTTP/1\.[01] \d{3} |Authorization: ")


def test_nothing_crosses_the_cluster_network_in_the_clear(target):
    """A capture on the hub host of everything to and from the cluster network while carol logs
    in to her server, starts it on a node (the job's secrets travel through slurmctld and
    slurmd) and runs code in a kernel there: no plain HTTP, no token, no private key, none of
    the kernel's output. One probe sent in the clear on purpose (to a node's slurmd) shows
    that the capture sees what crosses the network."""
    target.exec("rm", "-f", CAPTURE)
    subprocess.run(["docker", "exec", "-d", target.container, "tcpdump", "-i", "any", "-U", "-s", "0", "-w", CAPTURE,
                    "net", CLUSTER_NET], check=True, timeout=30)
    wait_until(lambda: target.exec("test", "-s", CAPTURE, check=False).returncode == 0, 30, what="tcpdump writing")
    marker = f"bmjh-kernel-output-{time.time_ns()}"
    carol = logged_in(target, "carol")
    try:
        r = carol.api("POST", "hub/api/users/carol/server", json={"cpus": 1, "memory": "512M", "time": 10})
        assert r.status_code in (201, 202), r.text
        wait_until(lambda: (carol.server() or {}).get("ready"), START_TIMEOUT, what="carol's server ready")
        assert carol.http.get(carol.url("user/carol/lab"), timeout=TIMEOUT).status_code == 200
        kernel = Kernel(carol, "python3")
        try:
            assert kernel.execute(f"print('{marker}')").strip() == marker
        finally:
            kernel.shutdown()
        [job] = jobs(target, "carol")
        server_env = {}
        # The server itself, not its wrapper (node-server), whose variables are still sealed.
        pid = on_node(job["node"], "pgrep", "-u", "carol", "-f", f"python3 {SINGLEUSER}").stdout.split()[0]
        for item in on_node(job["node"], "cat", f"/proc/{pid}/environ").stdout.split("\0"):
            name, _sep, value = item.partition("=")
            server_env[name] = value
        key = on_node(job["node"], "cat", server_env["JUPYTERHUB_SSL_KEYFILE"]).stdout
        probe = b"GET /bmjh-probe HTTP/1.1\r\nAuthorization: token bmjh-probe\r\n\r\n"
        target.exec("python3", "-c", "import socket, sys; s = socket.create_connection((sys.argv[1], 6818), 10);"
                    f" s.sendall({probe!r}); s.close()", job["node"])
        time.sleep(2)
    finally:
        target.exec("pkill", "-INT", "-x", "tcpdump", check=False)
        carol.stop()
    wait_until(lambda: target.exec("pgrep", "-x", "tcpdump", check=False).returncode != 0, 30, what="tcpdump to stop")
    captured = subprocess.run(["docker", "exec", target.container, "cat", CAPTURE], check=True, capture_output=True,
                              timeout=60).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "slurm-cluster-network.pcap").write_bytes(captured)
    assert len(captured) > 100_000, f"the capture holds {len(captured)} bytes only"
    plain = PLAIN_HTTP.findall(captured)
    assert plain == [b"GET /bmjh-probe HTTP/1.1\r\n", b"Authorization: "], f"plain HTTP on the cluster network: {plain[:20]}"
    secrets = {"the server's token": server_env["JUPYTERHUB_API_TOKEN"], "carol's token": carol.api_token(),
               "the kernel's output": marker, "the server's key": key.splitlines()[1]}
    for what, secret in secrets.items():
        assert len(secret) >= 16 and secret.encode() not in captured, f"{what} crossed the cluster network in the clear"
    wait_until(lambda: jobs(target, "carol") == [], 30, what="carol's job gone from the queue")
