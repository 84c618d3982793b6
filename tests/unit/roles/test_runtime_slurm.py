"""The Slurm spawner the role configures (roles/jupyterhub_venv/files/baremetal_jupyterhub_runtime.py,
jupyterhub_venv_spawner: slurm) against the batchspawner release the role pins.

squeue's answers below were recorded from Slurm 24.11.5 (Debian 13's slurm-wlm), asked for
"%T %S %B %r" as the spawner asks: a job that ended is not listed (empty output, status 0);
an unknown job id is an error on stderr (slurm_load_jobs error: Invalid job id specified)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

batchspawner = pytest.importorskip("batchspawner")
from batchspawner.batchspawner import format_template  # noqa: E402
from tornado import web  # noqa: E402

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "jupyterhub_venv"
spec = importlib.util.spec_from_file_location("baremetal_jupyterhub_runtime", ROLE / "files" / "baremetal_jupyterhub_runtime.py")
runtime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtime)
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())

PENDING = "PENDING 2026-12-07T15:22:24 n/a Resources\n"
WAITING = "PENDING 2026-12-07T16:20:24 n/a BeginTime\n"
RUNNING = "RUNNING 2026-12-07T15:20:24 bmjh-slurm-node1 None\n"

NODE_SERVER = "/opt/jupyterhub/bin/python3 -m baremetal_jupyterhub_runtime node-server --"
PARTITIONS = [
    {"name": "cpu", "max_cpus": 2, "max_memory": "2G", "max_time": 120},
    {"name": "gpu", "max_cpus": 8, "max_memory": "16G", "max_time": 60, "max_gpus": 2},
]


def test_the_tests_run_the_batchspawner_the_role_pins():
    assert importlib.metadata.version("batchspawner") == DEFAULTS["jupyterhub_venv_batchspawner_version"]


def test_a_request_within_the_limits_is_kept_normalised():
    got = runtime.slurm_request(PARTITIONS, {"partition": "cpu", "cpus": "1", "memory": "512m", "time": "10"})
    assert got == {"partition": "cpu", "cpus": "1", "memory": "512M", "time": "10", "gpus": "0"}
    # From the REST API, numbers come as JSON numbers.
    assert runtime.slurm_request(PARTITIONS, {"partition": "gpu", "cpus": 8, "memory": "16G", "time": 60, "gpus": 2}) == {
        "partition": "gpu", "cpus": "8", "memory": "16384M", "time": "60", "gpus": "2"}


def test_an_empty_request_gets_the_first_partitions_defaults():
    assert runtime.slurm_request(PARTITIONS, {}) == {"partition": "cpu", "cpus": "1", "memory": "1024M", "time": "60", "gpus": "0"}


@pytest.mark.parametrize("options, message", [
    ({"cpus": "3"}, "CPUs: 3 is outside what this partition allows (1 to 2)"),
    ({"cpus": "0"}, "CPUs: 0 is outside"),
    ({"cpus": "1.5"}, "CPUs must be a whole number"),
    ({"cpus": True}, "CPUs must be a whole number"),
    ({"memory": "3G"}, "memory: 3072M is more than this partition allows (2048M)"),
    ({"memory": "512M\n#SBATCH --exclusive"}, "memory must be a size"),
    ({"memory": "0"}, "memory must be a size"),
    ({"time": "121"}, "wall time (minutes): 121 is outside"),
    ({"gpus": "1"}, "GPUs: 1 is outside what this partition allows (0 to 0)"),
    ({"partition": "gpu", "gpus": "3"}, "GPUs: 3 is outside"),
    ({"partition": "debug"}, "partition 'debug' is not offered here; choose one of cpu, gpu"),
    ({"cmd": "/bin/sh -c id"}, "unknown option 'cmd'"),
    ({"options": "--exclusive"}, "unknown option 'options'"),
])
def test_a_request_past_the_limits_or_beyond_the_form_is_refused(options, message):
    with pytest.raises(ValueError) as e:
        runtime.slurm_request(PARTITIONS, options)
    assert message in str(e.value)


def test_the_form_offers_every_partition_within_the_largest_limits():
    form = runtime.slurm_options_form(PARTITIONS)
    assert '<option value="cpu">cpu: up to 2 CPUs, 2G, 120 min</option>' in form
    assert '<option value="gpu">gpu: up to 8 CPUs, 16G, 60 min, 2 GPUs</option>' in form
    assert 'name="cpus" min="1" max="8" value="1"' in form
    assert 'name="gpus" min="0" max="2"' in form
    assert 'name="gpus"' not in runtime.slurm_options_form(PARTITIONS[:1])


def spawner_class():
    return runtime.slurm_spawner(PARTITIONS, bin_dir="/usr/bin", singleuser_cmd=NODE_SERVER, died_check_every=0.01)


def test_the_form_is_checked_by_the_hub_not_by_the_browser():
    cls = spawner_class()
    spawner = cls.__new__(cls)
    form = {"_xsrf": ["2|abc"], "partition": ["cpu"], "cpus": ["1"], "memory": ["512M"], "time": ["10"]}
    assert spawner.options_from_form.__func__(spawner, form) == {
        "partition": "cpu", "cpus": "1", "memory": "512M", "time": "10", "gpus": "0"}
    with pytest.raises(ValueError, match="CPUs: 64 is outside"):
        spawner.options_from_form.__func__(spawner, {"cpus": ["64"]})


class FakeUser:
    name = "alice"
    url = "/user/alice/"


def make_spawner(**kwargs):
    cls = spawner_class()
    return cls(user=FakeUser(), req_homedir="/home/alice", req_username="alice",
               req_keepvars="JUPYTERHUB_API_TOKEN,JUPYTERHUB_API_URL", **kwargs)


def test_user_options_from_the_api_are_checked_and_only_checked_values_reach_the_script():
    spawner = make_spawner()
    with pytest.raises(web.HTTPError) as e:
        spawner.apply_user_options(spawner, {"cpus": 1, "cmd": "evil"})
    assert e.value.status_code == 400 and "unknown option 'cmd'" in e.value.log_message
    spawner.apply_user_options(spawner, {"partition": "gpu", "cpus": 2, "memory": "1g", "time": 15, "gpus": 1})
    assert (spawner.req_partition, spawner.req_nprocs, spawner.req_memory, spawner.req_runtime, spawner.req_gres) == (
        "gpu", "2", "1024M", "15", "gpu:1")
    subvars = spawner.get_req_subvars()
    subvars.update(cmd=spawner.cmd_formatted_for_batch())
    subvars.update(spawner.user_options)  # as batchspawner's submit_batch_script does
    script = format_template(spawner.batch_script, **subvars)
    assert "#SBATCH --partition=gpu\n#SBATCH --cpus-per-task=2\n#SBATCH --mem=1024M\n#SBATCH --time=15\n#SBATCH --gres=gpu:1\n" in script
    assert "--get-user-env" not in script
    assert script.rstrip().endswith(f"exec {NODE_SERVER} jupyterhub-singleuser")


def test_jobs_are_submitted_and_cancelled_as_the_user_by_absolute_paths():
    spawner = make_spawner()
    subvars = dict(spawner.get_req_subvars(), job_id="7")
    assert format_template(spawner.exec_prefix, **subvars) == ""
    # The job's variables are kept by the sudo rule (env_keep), never named on the command
    # line: sudo logs the values of the variables --preserve-env names, tokens included.
    assert format_template(spawner.batch_submit_cmd, **subvars) == "/usr/bin/sudo -u alice /usr/bin/sbatch --parsable"
    assert format_template(spawner.batch_cancel_cmd, **subvars) == "/usr/bin/sudo -u alice /usr/bin/scancel 7"
    # squeue as the user: with PrivateData=jobs, Slurm shows a job to its owner only.
    assert format_template(spawner.batch_query_cmd, **subvars) == "/usr/bin/sudo -u alice /usr/bin/squeue -h -j 7 -o '%T %S %B %r'"


def submits(spawner, job_id):
    """sbatch answers with job_id (the real submit needs the hub's environment)."""

    async def submit():
        spawner.job_id = job_id
        return job_id

    spawner.submit_batch_script = submit


def run_start(spawner, answers):
    """Start with sbatch and squeue answering as recorded; the server never reports a port."""
    queries = iter(answers)

    async def run_command(cmd, input=None, env=None):
        if "sbatch" in cmd:
            return "12\n"
        if "squeue" in cmd:
            answer = next(queries, answers[-1])
            if isinstance(answer, Exception):
                raise answer
            return answer
        return ""

    spawner.run_command = run_command
    spawner.startup_poll_interval = 0.01
    return asyncio.run(asyncio.wait_for(spawner.start(), timeout=5))


def test_a_job_that_ends_before_its_server_starts_fails_the_start_at_once():
    spawner = make_spawner()

    submits(spawner, "12")
    # pending, running on the node, then gone (the job failed: squeue lists it no more).
    with pytest.raises(web.HTTPError) as e:
        run_start(spawner, [PENDING, RUNNING, RUNNING, ""])
    # What JupyterHub shows the user: the spawn page's progress, its error pages.
    assert "Slurm job 12 ended before the server started" in e.value.jupyterhub_message
    assert "/home/alice/jupyterhub_slurmspawner_12.log" in e.value.jupyterhub_message


def test_a_job_that_ends_before_slurm_runs_it_is_told_to_the_user_with_its_log():
    """batchspawner's own check (the job left the queue while pending, or died at once) says
    neither which job nor where its output is; the user is told both."""
    spawner = make_spawner()

    submits(spawner, "14")
    with pytest.raises(web.HTTPError) as e:
        run_start(spawner, [WAITING, ""])
    assert e.value.status_code == 500
    assert e.value.jupyterhub_message == ("Your server's Slurm job 14 ended before the server started (gone from the"
                                          " queue). What it printed is in /home/alice/jupyterhub_slurmspawner_14.log")


def test_a_job_slurm_did_not_take_is_told_to_the_user():
    spawner = make_spawner()

    submits(spawner, "")
    with pytest.raises(web.HTTPError) as e:
        run_start(spawner, [PENDING])
    assert e.value.jupyterhub_message.startswith("Slurm did not take your server's job: Jupyter batch job submission failure")


def test_a_job_whose_server_reports_its_port_starts():
    spawner = make_spawner()

    submits(spawner, "13")
    answers = [RUNNING]

    async def report_port():
        while spawner.ip in ("", "0.0.0.0"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        spawner.port = 45678

    async def both():
        reporter = asyncio.ensure_future(report_port())
        queries = iter(answers)

        async def run_command(cmd, input=None, env=None):
            return next(queries, answers[-1])

        spawner.run_command = run_command
        spawner.startup_poll_interval = 0.01
        spawner.db = type("DB", (), {"commit": lambda self: None})()
        result = await asyncio.wait_for(spawner.start(), timeout=5)
        await reporter
        return result

    assert asyncio.run(both()) == ("bmjh-slurm-node1", 45678)


# --- What a node's server may report: its port, and nothing else --------------------------
class Starting:
    """A spawner as port_report() reads it: starting (pending "spawn"), no port yet."""

    pending = "spawn"
    port = 0


@pytest.mark.parametrize("body, message", [
    (b'{"exec_prefix": "id > /tmp/pwned;"}', "reports its port and nothing else, got ['exec_prefix']"),
    (b'{"port": 4567, "batch_query_cmd": "id"}', "got ['batch_query_cmd', 'port']"),
    (b'{"port": 4567, "job_id": "1; id"}', "got ['job_id', 'port']"),
    (b'{"ip": "10.0.0.9"}', "got ['ip']"),
    (b'[4567]', "got list"),
    (b'not json', "not JSON"),
    (b'', "not JSON"),
    (b'{"port": "4567"}', "whole number from 1 to 65535, got '4567'"),
    (b'{"port": 0}', "got 0"),
    (b'{"port": 65536}', "got 65536"),
    (b'{"port": true}', "got True"),
    (b'{"port": 45.5}', "got 45.5"),
])
def test_a_port_report_with_anything_but_a_port_is_refused(body, message):
    with pytest.raises(ValueError) as e:
        runtime.port_report(Starting(), "token", body)
    assert message in str(e.value)


def test_a_port_is_taken_once_from_the_starting_servers_own_token():
    assert runtime.port_report(Starting(), "token", b'{"port": 4567}') == 4567
    with pytest.raises(ValueError, match="not that of a server that is starting"):
        runtime.port_report(None, "someone else's token", b'{"port": 4567}')
    reported = Starting()
    reported.port = 4567
    with pytest.raises(ValueError, match=r"has reported its port already \(4567\)"):
        runtime.port_report(reported, "token", b'{"port": 4568}')
    running = Starting()
    running.pending = None
    with pytest.raises(ValueError, match="the server is not starting"):
        runtime.port_report(running, "token", b'{"port": 4567}')


def test_the_hubs_port_report_route_is_ours_not_batchspawners():
    """`import batchspawner` registers its handler (setattr of every key posted); the Slurm
    spawner puts ours in its place, and says so loudly when the route is not where it was."""
    from jupyterhub.apihandlers import default_handlers

    spawner_class()
    handlers = [route[1] for route in default_handlers if route[0] == runtime.PORT_REPORT_ROUTE]
    assert [h.__name__ for h in handlers] == ["PortReportHandler"], handlers
    assert batchspawner.api.BatchSpawnerAPIHandler not in handlers
    with pytest.raises(RuntimeError, match="route is not among the hub's API routes"):
        runtime.use_port_report_handler([(r"/api/users", object)])


def test_batchspawners_handler_still_registers_where_ours_replaces_it():
    """The upstream shape use_port_report_handler() builds on (batchspawner 1.3.0)."""
    import inspect

    source = inspect.getsource(batchspawner.api)
    assert 'default_handlers.append((r"/api/batchspawner", BatchSpawnerAPIHandler))' in source


# --- What the job gets from the hub: the variables the sudo rule keeps -----------------------
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())


def full_spawner(job_env):
    """A spawner with every option of JupyterHub's get_env() on, as the account running the tests."""
    import os
    import pwd

    from jupyterhub.objects import Hub, Server

    me = pwd.getpwuid(os.getuid()).pw_name

    class User:
        name = me
        url = f"/user/{me}/"
        escaped_name = me

    cls = runtime.slurm_spawner(PARTITIONS, job_env=job_env)
    spawner = cls(user=User(), hub=Hub(ip="127.0.0.1", port=8081, base_url="/hub/"), req_username=me,
                  admin_access=True, cookie_options={"secure": True}, mem_limit="1G", mem_guarantee="1G",
                  cpu_limit=1, cpu_guarantee=1, notebook_dir="/tmp", default_url="/lab", debug=True,
                  disable_user_config=True, env_keep=["JUPYTERHUB_SINGLEUSER_APP", "LD_PRELOAD", "PATH"],
                  environment={"EXTRA": "x"})
    spawner.server = Server(base_url=f"/user/{me}/")
    spawner.cert_paths = {"keyfile": "/k", "certfile": "/c", "cafile": "/a"}
    spawner.api_token = "secret"
    return spawner


# munge and unmunge, as MUNGE 0.5.15 (Debian 12) answered them (the file says how).
MUNGE = json.loads((pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "munge" / "recorded.json").read_text())


class Recorded:
    """subprocess.run as munge or unmunge answered it once (MUNGE[name]), keeping the calls."""

    def __init__(self, name):
        self.answer = MUNGE[name]
        self.calls = []

    def __call__(self, argv, input=None, capture_output=False, check=False):  # noqa: A002 (subprocess.run's name)
        assert capture_output and not check
        self.calls.append((argv, input))
        return subprocess.CompletedProcess(argv, self.answer["returncode"], self.answer["stdout"].encode(),
                                           self.answer["stderr"].encode())


def sealed_with_recorded_munge(monkeypatch):
    """The spawner's seal_secrets() with munge's recorded answer; returns the recorder."""
    munge = Recorded("seal")
    real = runtime.seal_secrets
    monkeypatch.setattr(runtime, "seal_secrets", lambda *a, **kw: real(*a, **dict(kw, run=munge)))
    return munge


def test_the_job_gets_only_the_variables_the_sudo_rule_keeps(monkeypatch):
    job_env = ROLE_VARS["jupyterhub_venv__slurm_job_env"]
    monkeypatch.setenv("JUPYTERHUB_SINGLEUSER_APP", "jupyter_server.serverapp.ServerApp")
    monkeypatch.setenv("LD_PRELOAD", "/tmp/evil.so")
    munge = sealed_with_recorded_munge(monkeypatch)
    spawner = full_spawner(job_env)
    everything = batchspawner.SlurmSpawner.get_env(spawner)
    # Every variable JupyterHub and batchspawner give a server is in the list, but the
    # secrets, which travel sealed...
    sealed = set(runtime.SEALED_VARS) | set(runtime.TLS_FILES)
    assert set(everything) - set(job_env) == {"EXTRA", "LD_PRELOAD", "PATH"} | sealed
    # ...and the job gets those and no others: no token, no path of the hub's.
    env = spawner.get_env()
    assert set(env) == (set(everything) - sealed) & set(job_env) | {runtime.JOB_SECRETS_VAR}
    assert "secret" not in json.dumps(env) and env[runtime.JOB_SECRETS_VAR] == MUNGE["seal"]["stdout"].strip()
    assert spawner.req_keepvars == ",".join(env)
    # Sealed once a start (batchspawner asks three times), for the user's uid alone, for
    # as long as the start may take.
    spawner.get_env()
    [(argv, payload)] = munge.calls
    assert argv == ["/usr/bin/munge", f"--restrict-uid={os.getuid()}", f"--ttl={int(spawner.start_timeout) + 60}"]
    assert json.loads(payload)["env"] == {"JUPYTERHUB_API_TOKEN": "secret", "JPY_API_TOKEN": "secret"}
    # The sudo rule keeps the same list (env_keep), with no SETENV.
    sudoers = (ROLE / "templates" / "sudoers.j2").read_text()
    assert "env_keep = \"{{ jupyterhub_venv__slurm_job_env | join(' ') }}\"" in sudoers
    assert "SETENV:" not in sudoers.replace("NOSETENV:", "")


@pytest.mark.parametrize("name, home", [
    ("alice;id", "/home/alice"),
    ("alice\n#SBATCH --uid=0", "/home/alice"),
    ("alice", "/home/alice smith"),
    ("alice", "/home/$(id)"),
    ("alice", "/home/../root"),
])
def test_a_user_whose_name_or_home_a_shell_would_read_gets_no_job(name, home):
    spawner = make_spawner()
    spawner.user.name = name
    spawner.req_homedir = home
    submitted = []

    async def run_command(cmd, input=None, env=None):
        submitted.append(cmd)
        return "12"

    spawner.run_command = run_command
    with pytest.raises(web.HTTPError) as e:
        asyncio.run(spawner.start())
    assert "cannot be written into a batch script" in e.value.jupyterhub_message and submitted == []


def test_the_runtime_spells_the_account_name_rule_as_the_collection_does():
    from ansible_collections.baremetal.jupyterhub.plugins.module_utils import rules

    assert runtime.ACCOUNT_NAME.pattern == rules.ACCOUNT_NAME.pattern


# --- On the node: the server's port is reported once the user's own server listens there ---
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

# A stand-in for jupyterhub-singleuser: listens on the port of JUPYTERHUB_SERVICE_URL for
# STAY seconds, then exits 0.
FAKE_SERVER = [sys.executable, "-c", """
import os, socket, time, urllib.parse
port = urllib.parse.urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"]).port
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen()
    time.sleep(float(os.environ.get("STAY", "0.5")))
"""]
ENV = {"JUPYTERHUB_API_URL": "http://hub.example:8081/hub/api", "JUPYTERHUB_API_TOKEN": "secret",
       "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:0/user/alice/", "PATH": os.environ.get("PATH", "")}


class Hub:
    """The hub's port-report route: records each report, answers with `status`."""

    def __init__(self, status=201):
        self.status, self.reports = status, []

    def __call__(self, request, timeout, context):
        import urllib.error

        self.reports.append((request.full_url, request.headers, json.loads(request.data)))
        if self.status >= 400:
            raise urllib.error.HTTPError(request.full_url, self.status, "refused", {}, None)
        return type("Answer", (), {"status": self.status, "__enter__": lambda a: a, "__exit__": lambda a, *x: None})()


def unused_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def test_the_port_is_reported_once_the_users_own_server_listens_there(capfd):
    hub = Hub()
    ports = (unused_port(),) * 2
    assert runtime.node_server(FAKE_SERVER, environ=ENV, ports=ports, post=hub) == 0
    [(url, headers, body)] = hub.reports
    assert url == "http://hub.example:8081/hub/api/batchspawner" and body == {"port": ports[0]}
    assert headers["Authorization"] == "token secret"
    assert f"Port {ports[0]} reported to the hub" in capfd.readouterr().err


def test_a_port_held_by_another_account_is_never_reported(tmp_path, capfd):
    """The kernel's socket table says another uid listens on the port: the server is
    started again on another port, and after the last try not reported at all."""
    port = unused_port()
    (tmp_path / "tcp").write_text(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        f"   0: 00000000:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  4242        0 1\n")
    hub = Hub()
    assert runtime.node_server(FAKE_SERVER, environ=dict(ENV, STAY="5"), ports=(port, port), post=hub,
                               proc_net=str(tmp_path)) == 1
    assert hub.reports == []
    err = capfd.readouterr().err
    assert [line.split(":")[0] for line in err.splitlines() if "(uid 4242)" in line] == [
        f"Start {n} of 3 on port {port}" for n in (1, 2, 3)] + ["The server was not started"]


def test_a_report_the_hub_refuses_ends_the_server(capfd):
    hub = Hub(status=400)
    started = __import__("time").monotonic()
    assert runtime.node_server(FAKE_SERVER, environ=dict(ENV, STAY="30"), post=hub) == 1
    assert len(hub.reports) == 1 and __import__("time").monotonic() - started < 15
    assert "the hub refused the port report (400" in capfd.readouterr().err


def test_no_free_port_in_the_range_or_a_server_that_exits_is_said(capfd):
    with socket.socket() as taken:
        taken.bind(("", 0))
        port = taken.getsockname()[1]
        assert runtime.node_server(FAKE_SERVER, environ=ENV, ports=(port, port), post=Hub()) == 1
    assert f"every port of {port}-{port} is taken" in capfd.readouterr().err
    assert runtime.node_server([sys.executable, "-c", "raise SystemExit(3)"], environ=ENV, post=Hub()) == 1
    assert "the server exited (3) before it listened" in capfd.readouterr().err
    assert runtime.node_server(["/nonexistent/jupyterhub-singleuser"], environ=ENV, post=Hub()) == 1
    assert "/nonexistent/jupyterhub-singleuser could not be run (No such file or directory)" in capfd.readouterr().err


def test_the_node_server_is_what_the_batch_script_runs():
    spawner = make_spawner()
    spawner.cmd = ["/opt/jupyterhub/bin/jupyterhub-singleuser"]
    cls = runtime.slurm_spawner(PARTITIONS, singleuser_cmd="/opt/jupyterhub/bin/python3 -m baremetal_jupyterhub_runtime node-server --ports 50000-50009 --")
    spawner = cls(user=FakeUser(), req_homedir="/home/alice", req_username="alice", cmd=["/opt/jupyterhub/bin/jupyterhub-singleuser"])
    assert spawner.cmd_formatted_for_batch().startswith(
        "/opt/jupyterhub/bin/python3 -m baremetal_jupyterhub_runtime node-server --ports 50000-50009 -- /opt/jupyterhub/bin/jupyterhub-singleuser")


@pytest.mark.parametrize("text, expected", [
    ("", None), ("50000-50009", (50000, 50009)), ("1024-1024", (1024, 1024)),
    ("1023-2000", ValueError), ("50009-50000", ValueError), ("5000", ValueError), ("a-b", ValueError),
    ("50000-65536", ValueError), (" 50000-50009", ValueError),
])
def test_the_runtimes_port_range_is_the_collections_rule(text, expected):
    from ansible_collections.baremetal.jupyterhub.plugins.module_utils import rules

    if expected is ValueError:
        with pytest.raises(ValueError):
            runtime.port_range(text)
        assert text == "" or not rules.is_port_range(text)
    else:
        assert runtime.port_range(text) == expected
        assert text == "" or rules.is_port_range(text)
    assert runtime.PORT_RANGE.pattern == rules.PORT_RANGE.pattern


# --- While the job waits: Slurm's reason on the spawn page ------------------------------
@pytest.mark.parametrize("status, message", [
    (WAITING, "Waiting in Slurm's queue: BeginTime, expected to start at 2026-12-07 16:20:24"),
    ("PENDING N/A n/a ReqNodeNotAvail, UnavailableNodes:bmjh-slurm-node[1-2]",
     "Waiting in Slurm's queue: ReqNodeNotAvail, UnavailableNodes:bmjh-slurm-node[1-2]"),
    ("PENDING N/A n/a Priority", "Waiting in Slurm's queue: Priority"),
    ("PENDING N/A n/a None", "Waiting in Slurm's queue"),
    ("", "Your job is not listed by Slurm yet"),
])
def test_the_spawn_page_says_why_a_job_waits(status, message):
    assert runtime.slurm_queue_message(status) == message


def test_progress_says_each_state_once_then_where_the_job_runs():
    spawner = make_spawner()
    statuses = iter(["PENDING N/A n/a Resources"] * 8 + ["PENDING N/A n/a Priority"] * 5 + [RUNNING])

    async def events():
        got = []
        async for event in spawner.progress():
            got.append(event["message"])
        return got

    async def advance():
        while True:
            spawner.job_status = next(statuses, RUNNING)
            await asyncio.sleep(0.3)

    async def both():
        ticker = asyncio.ensure_future(advance())
        try:
            return await asyncio.wait_for(events(), timeout=10)
        finally:
            ticker.cancel()

    assert asyncio.run(both()) == ["Waiting in Slurm's queue: Resources", "Waiting in Slurm's queue: Priority",
                                   "Your job runs on bmjh-slurm-node1: starting your server"]


def test_a_root_hub_runs_slurms_commands_as_the_user_with_runuser():
    cls = runtime.slurm_spawner(PARTITIONS, run_as="runuser")
    spawner = cls(user=FakeUser(), req_homedir="/home/alice", req_username="alice", req_keepvars="JUPYTERHUB_API_TOKEN")
    subvars = dict(spawner.get_req_subvars(), job_id="7")
    assert format_template(spawner.batch_submit_cmd, **subvars) == "/usr/sbin/runuser -u alice -- /usr/bin/sbatch --parsable"
    assert format_template(spawner.batch_cancel_cmd, **subvars) == "/usr/sbin/runuser -u alice -- /usr/bin/scancel 7"


# What sudo and squeue printed (stderr, status 1) while slurmctld was stopped, recorded in
# the slurm scenario's container (sudo 1.9.16, Slurm 24.11.5): sudo's own line comes first.
CONTROLLER_DOWN = ("sudo: unable to send audit message: Operation not permitted\n"
                   "slurm_load_jobs error: Unable to contact slurm controller (connect failure)")


@pytest.mark.parametrize("stderr, status", [
    (CONTROLLER_DOWN, "UNKNOWN"),
    (CONTROLLER_DOWN.split("\n")[1], "UNKNOWN"),
    ("slurm_load_jobs error: Invalid job id specified", "NOTFOUND"),
])
def test_a_controller_that_does_not_answer_keeps_the_server(stderr, status):
    spawner = make_spawner()
    spawner.job_id = "5"

    async def run_command(cmd, input=None, env=None):
        raise RuntimeError(stderr)

    spawner.run_command = run_command
    assert asyncio.run(spawner.query_job_status()) == getattr(batchspawner.JobStatus, status)
    assert (asyncio.run(spawner.poll()) is None) == (status == "UNKNOWN")


def test_secrets_are_sealed_for_the_user_and_nothing_sealed_stays_in_the_clear():
    munge = Recorded("seal")
    env = {"JUPYTERHUB_API_TOKEN": "t0k", "JPY_API_TOKEN": "t0k", "JUPYTERHUB_SSL_KEYFILE": "/hub/key",
           "JUPYTERHUB_SSL_CERTFILE": "/hub/crt", "JUPYTERHUB_SSL_CLIENT_CA": "/hub/ca", "JUPYTERHUB_USER": "nobody"}
    tls = {"JUPYTERHUB_SSL_KEYFILE": "KEY", "JUPYTERHUB_SSL_CERTFILE": "CRT", "JUPYTERHUB_SSL_CLIENT_CA": "CA"}
    kept = runtime.seal_secrets(env, tls, 65534, 180, run=munge)
    assert kept == {"JUPYTERHUB_USER": "nobody", runtime.JOB_SECRETS_VAR: MUNGE["seal"]["stdout"].strip()}
    [(argv, payload)] = munge.calls
    assert argv == ["/usr/bin/munge", "--restrict-uid=65534", "--ttl=180"]
    assert json.loads(payload) == {"env": {"JUPYTERHUB_API_TOKEN": "t0k", "JPY_API_TOKEN": "t0k"}, "files": tls}


def test_a_job_is_not_given_its_secrets_in_the_clear_when_munge_fails():
    with pytest.raises(RuntimeError, match=r"munge could not seal the job's secrets \(6\): .*Did you start munged"):
        runtime.seal_secrets({"JUPYTERHUB_API_TOKEN": "t0k"}, {}, 65534, 180, run=Recorded("seal_without_munged"))


@pytest.mark.parametrize("answer, status", [("replayed", 17), ("other_uid", 18), ("expired", 15)])
def test_only_a_credential_munge_vouches_for_opens(answer, status):
    # unmunge prints the payload of a replayed or an expired credential too: its status decides.
    with pytest.raises(ValueError, match=rf"unmunge refused the job's secrets \({status}\)"):
        runtime.open_secrets("MUNGE:x:", run=Recorded(answer))


def test_the_node_restores_the_secrets_into_a_folder_of_the_users_alone(tmp_path):
    unmunge = Recorded("open")
    folder = tmp_path / "tls"
    env = runtime.unseal_job_environment({runtime.JOB_SECRETS_VAR: "MUNGE:x:", "JUPYTERHUB_USER": "nobody"}, str(folder),
                                         run=unmunge)
    key = folder / "server.key"
    assert env == {"JUPYTERHUB_USER": "nobody", "JUPYTERHUB_API_TOKEN": "t0k", "JPY_API_TOKEN": "t0k",
                   "JUPYTERHUB_SSL_KEYFILE": str(key)}
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct(key.stat().st_mode & 0o777) == "0o600"
    assert unmunge.calls == [(["/usr/bin/unmunge", "--metadata=/dev/null"], b"MUNGE:x:")]
    # A hub that seals nothing: the job's variables as they are.
    assert runtime.unseal_job_environment({"A": "1"}, str(folder), run=None) == {"A": "1"}


def test_a_servers_tls_files_travel_as_their_contents(tmp_path):
    spawner = full_spawner(ROLE_VARS["jupyterhub_venv__slurm_job_env"])
    paths = {}
    for key, text in (("keyfile", "KEY"), ("certfile", "CRT"), ("cafile", "CA")):
        (tmp_path / key).write_text(text)
        paths[key] = str(tmp_path / key)
    assert asyncio.run(spawner.move_certs(paths)) == paths
    assert spawner.tls_contents == {"JUPYTERHUB_SSL_KEYFILE": "KEY", "JUPYTERHUB_SSL_CERTFILE": "CRT",
                                    "JUPYTERHUB_SSL_CLIENT_CA": "CA"}


def test_a_written_config_names_its_spawner_for_the_next_run():
    """spawner_switch.yml reads which spawner a running hub's config has by a marker in it:
    a config without its marker made every run stop every user's server."""
    template = (ROLE / "templates" / "jupyterhub_config.py.j2").read_text()
    branches = re.split(r"\{% (?:el)?if jupyterhub_venv_spawner == '(\w+)' %\}", template.split("# --- Users' servers")[1])
    found = dict(zip(branches[1::2], branches[2::2]))
    for spawner, marker in ROLE_VARS["jupyterhub_venv__spawner_markers"].items():
        assert marker in found[spawner].split("{% el")[0], f"the {spawner} config does not name {marker}"
