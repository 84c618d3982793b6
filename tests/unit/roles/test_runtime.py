"""roles/jupyterhub_venv/files/baremetal_jupyterhub_runtime.py: the code the hub and users'
servers run, against the JupyterHub and JupyterLab releases the role pins (installed in the
test environment from requirements-dev.txt)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import pathlib
import pwd
import shutil
import socket

import pytest
import yaml
from tornado import web

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "jupyterhub_venv"
spec = importlib.util.spec_from_file_location("baremetal_jupyterhub_runtime", ROLE / "files" / "baremetal_jupyterhub_runtime.py")
runtime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtime)

DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


@pytest.mark.parametrize("package, default", [("jupyterhub", "jupyterhub_venv_jupyterhub_version"),
                                              ("jupyterlab", "jupyterhub_venv_jupyterlab_version")])
def test_the_tests_run_the_releases_the_role_pins(package, default):
    assert importlib.metadata.version(package) == DEFAULTS[default], "update requirements-dev.txt with the role's pin"


# --- read_env_value -----------------------------------------------------------------------
def test_read_env_value_reads_the_key_and_not_its_lookalikes(tmp_path):
    path = tmp_path / "auth.env"
    path.write_text("# a comment\nCONFIGPROXY_AUTH_TOKEN_OLD=no\n CONFIGPROXY_AUTH_TOKEN=abc=def \n")
    assert runtime.read_env_value(str(path), "CONFIGPROXY_AUTH_TOKEN") == "abc=def"


def test_read_env_value_says_which_key_is_missing_where(tmp_path):
    path = tmp_path / "offboarding.env"
    path.write_text("OTHER=1\n")
    with pytest.raises(RuntimeError, match=f"OFFBOARDING_API_TOKEN is not set in {path}"):
        runtime.read_env_value(str(path), "OFFBOARDING_API_TOKEN")


# --- waits_for_port -------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ME = pwd.getpwuid(os.getuid())

# Socket tables as Linux 6.18 prints them (recorded on the Debian 12 test machine, in the
# demo container: the hub's proxy as uid 997 on 127.0.0.1:8000-8001, nginx as root on *:443;
# the tcp6 line from a socket listening on [::1]:44105), then a connected socket that is not
# a listener.
TCP_RECORDED = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000   997        0 11954604 1 0000000068088170 100 0 0 10 0
   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000   997        0 11954603 1 00000000589fcec0 100 0 0 10 0
   2: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11962444 1 0000000083e98455 100 0 0 10 0
   3: 0100007F:B3C2 0100007F:1F40 01 00000000:00000000 00:00000000 00000000  1001        0 11962999 1 0000000083e98456 20 4 30 10 -1
"""
TCP6_RECORDED = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:AC49 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 """ \
    """00000000     0        0 12014781 1 00000000e94b1579 100 0 0 10 0
"""


def _proc_net(tmp_path, tcp=TCP_RECORDED, tcp6=TCP6_RECORDED):
    (tmp_path / "tcp").write_text(tcp)
    if tcp6 is not None:
        (tmp_path / "tcp6").write_text(tcp6)
    return str(tmp_path)


def _listener(port, uid):
    """A socket table line: `uid` listens on 127.0.0.1:`port`."""
    return (f"   9: 0100007F:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {uid:5d}"
            "        0 1 1 0000000000000000 100 0 0 10 0\n")


def test_listening_uids_reads_listeners_only_on_that_port(tmp_path):
    net = _proc_net(tmp_path)
    assert runtime.listening_uids(8000, net) == {997}
    assert runtime.listening_uids(443, net) == {0}
    assert runtime.listening_uids(0xAC49, net) == {0}  # IPv6
    assert runtime.listening_uids(0xB3C2, net) == set()  # connected, not listening
    assert runtime.listening_uids(8002, _proc_net(tmp_path, tcp6=None)) == set()  # no IPv6 at all


def test_listening_uids_sees_a_real_listener():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert runtime.listening_uids(s.getsockname()[1]) == {os.getuid()}


class _User:
    name = ME.pw_name


class _Started:
    """A spawner whose start() returns the address of a server on a new port each time (or the
    configured one), and whose poll() says whether that server still runs."""

    user = _User()
    log = logging.getLogger("test")

    def __init__(self, ports, exited=False, port=0):
        self.ports, self.exited, self.port = list(ports), exited, port
        self.polls, self.starts, self.stops = 0, [], 0

    async def start(self):
        if self.port == 0:
            self.port = self.ports.pop(0)
        self.starts.append(self.port)
        return ("127.0.0.1", self.port)

    async def stop(self, now=False):
        self.stops += 1

    async def poll(self):
        self.polls += 1
        return 1 if self.exited else None

    async def progress(self):
        yield {"progress": 50, "message": "the spawner's own"}


def test_the_spawner_returns_once_the_server_listens():
    port = _free_port()
    spawner = runtime.waits_for_port(_Started, interval=0.01)([port])

    async def scenario():
        started = asyncio.ensure_future(spawner.start())
        await asyncio.sleep(0.2)
        assert not started.done(), "start() returned before the server listened"
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
        async with server:
            assert await asyncio.wait_for(started, 2) == ("127.0.0.1", port)

    asyncio.run(scenario())
    assert spawner.stops == 0


def test_a_port_another_account_holds_is_given_up_for_a_new_one(tmp_path):
    """The hub must never route a user to another account's program (the race that lost a
    server in 50 at once): the spawner stops that start and starts again on a new port."""
    taken, free = _free_port(), _free_port()
    net = _proc_net(tmp_path, tcp=TCP_RECORDED + _listener(taken, ME.pw_uid + 1) + _listener(free, ME.pw_uid))
    spawner = runtime.waits_for_port(_Started, interval=0.01, proc_net=net)([taken, free])

    async def scenario():
        servers = [await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", p) for p in (taken, free)]
        try:
            return await asyncio.wait_for(spawner.start(), 5)
        finally:
            for server in servers:
                server.close()

    assert asyncio.run(scenario()) == ("127.0.0.1", free)
    assert spawner.starts == [taken, free] and spawner.stops == 1


def test_a_start_that_keeps_failing_says_why(tmp_path):
    port = _free_port()
    net = _proc_net(tmp_path, tcp=TCP_RECORDED + _listener(port, ME.pw_uid + 1))
    # An admin's fixed Spawner.port: every attempt uses it.
    spawner = runtime.waits_for_port(_Started, interval=0.01, proc_net=net)([], port=port)

    async def scenario():
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
        async with server:
            await asyncio.wait_for(spawner.start(), 5)

    with pytest.raises(web.HTTPError) as raised:
        asyncio.run(scenario())
    message = f"Your server did not start: port {port} is held by another account's program (uid {ME.pw_uid + 1}) (2 tries)."
    assert raised.value.jupyterhub_message == message and raised.value.status_code == 500
    assert spawner.starts == [port, port] and spawner.stops == 2


def test_a_server_that_exits_before_it_listens_is_started_again_then_reported():
    spawner = runtime.waits_for_port(_Started, interval=0.01, poll_every=3)([_free_port(), _free_port()], exited=True)
    with pytest.raises(web.HTTPError, match="exited before it accepted connections"):
        asyncio.run(asyncio.wait_for(spawner.start(), 2))
    assert spawner.polls == 2 and spawner.stops == 2 and len(set(spawner.starts)) == 2


def test_servers_start_a_few_at_a_time_and_those_in_line_see_their_place():
    spawner_class = runtime.waits_for_port(_Started, interval=0.01, at_once=1)
    first, second, third = (spawner_class([_free_port()]) for spawner in range(3))

    async def events(spawner, count):
        out = []
        async for event in spawner.progress():
            out.append(event["message"])
            if len(out) == count:
                return out

    async def scenario():
        starts = [asyncio.ensure_future(s.start()) for s in (first, second, third)]
        await asyncio.sleep(0.2)
        assert [s.starts for s in (first, second, third)] == [first.starts, [], []] and first.starts
        assert await events(third, 1) == ["Waiting for 2 other server starts before yours"]
        async with await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", first.starts[0]):
            await asyncio.wait_for(starts[0], 2)
            await asyncio.sleep(0.2)
            assert second.starts and not third.starts, "the second in line starts when the first is up"
            assert await events(third, 1) == ["Waiting for 1 other server start before yours"]
        for s, task in ((second, starts[1]), (third, starts[2])):
            while not s.starts:
                await asyncio.sleep(0.01)
            async with await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", s.starts[0]):
                await asyncio.wait_for(task, 2)
        # Out of line, the progress is the spawner's own.
        assert await events(third, 1) == ["the spawner's own"]

    asyncio.run(scenario())


def test_one_start_per_cpu_by_default():
    spawner_class = runtime.waits_for_port(_Started, interval=0.01)
    spawners = [spawner_class([_free_port()]) for spawner in range(len(os.sched_getaffinity(0)) + 1)]

    async def scenario():
        starts = [asyncio.ensure_future(s.start()) for s in spawners]
        await asyncio.sleep(0.2)
        assert sum(bool(s.starts) for s in spawners) == len(spawners) - 1
        for task in starts:
            task.cancel()
        await asyncio.gather(*starts, return_exceptions=True)

    asyncio.run(scenario())


def test_the_pinned_jupyterhubs_spawners_still_fit():
    """What waits_for_port builds on: start() and poll() coroutines, start() returning (ip, port)."""
    from jupyterhub.spawner import LocalProcessSpawner, Spawner

    for cls in (Spawner, LocalProcessSpawner):
        for method in (cls.start, cls.poll, cls.stop):
            assert inspect.iscoroutinefunction(method), (cls, method)
    source = inspect.getsource(LocalProcessSpawner.start)
    assert "return (self.ip or '127.0.0.1', self.port)" in source
    # The place in line is told through progress(), which the hub iterates while the spawn is pending.
    assert inspect.isasyncgenfunction(Spawner.progress)
    assert "self.progress()" in inspect.getsource(Spawner._generate_progress)
    # A start given up for another port resets self.port to what it was (0): a new one is picked.
    assert "if self.port == 0:\n            self.port = random_port()" in source
    waiting = runtime.waits_for_port(LocalProcessSpawner)
    assert issubclass(waiting, LocalProcessSpawner) and waiting.__name__ == "LocalProcessSpawnerWaitingForPort"
    assert waiting.start is not LocalProcessSpawner.start


# --- users' servers ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, connection_file, transport", [
    (["/opt/jupyterhub/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
     "/home/alice/.local/share/jupyter/runtime/kernel-fddb5822-084d-4c04-8aef-911182b915ea.json", "ipc"),
    (["python", "-m", "ipykernel", "-f", "{connection_file}"], "/home/a/kernel-1.json", "ipc"),
    # IRkernel and others may speak TCP only
    (["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"], "/home/a/kernel-1.json", "tcp"),
    ([], "/home/a/kernel-1.json", "tcp"),
    # a socket path longer than Linux takes (107 bytes): a deep home folder
    (["python", "-m", "ipykernel_launcher"], "/home/" + "x" * 40 + "/.local/share/jupyter/runtime/kernel-"
     "fddb5822-084d-4c04-8aef-911182b915ea.json", "tcp"),
    (["python", "-m", "ipykernel_launcher"], "", "tcp"),
])
def test_kernel_transport(argv, connection_file, transport, monkeypatch):
    monkeypatch.setattr(runtime, "holds_unix_sockets", lambda folder: True)
    assert runtime.kernel_transport(argv, connection_file) == transport


def test_a_runtime_folder_that_holds_no_sockets_keeps_tcp(tmp_path, monkeypatch):
    assert runtime.holds_unix_sockets(str(tmp_path)) and not list(tmp_path.iterdir()), "the check leaves nothing behind"
    assert runtime.kernel_transport(["python", "-m", "ipykernel_launcher"], str(tmp_path / "kernel-1.json")) == "ipc"
    # A folder where no socket can be bound: one that does not exist stands in for an SMB home.
    missing = tmp_path / "missing"
    assert not runtime.holds_unix_sockets(str(missing))
    assert runtime.kernel_transport(["python", "-m", "ipykernel_launcher"], str(missing / "kernel-1.json")) == "tcp"


def test_the_longest_path_taken_is_one_a_socket_can_bind(tmp_path):
    """UNIX_SOCKET_PATH_MAX is the kernel's: 107 bytes bind, 108 do not."""
    base = tmp_path / "s"
    for length, binds in ((runtime.UNIX_SOCKET_PATH_MAX, True), (runtime.UNIX_SOCKET_PATH_MAX + 1, False)):
        path = str(base) + "x" * (length - len(str(base)))
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.bind(path)
            except OSError:
                assert not binds, length
            else:
                assert binds, length


def test_an_ipython_kernel_answers_over_unix_sockets(tmp_path):
    """The pinned jupyter_server's kernel manager with the role's default transport starts a
    real IPython kernel that binds no TCP port and runs code."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

    assert issubclass(runtime.IPCKernelManager, ServerKernelManager)
    connection_file = tmp_path / "kernel-1.json"
    km = runtime.IPCKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(),
                                  connection_file=str(connection_file))
    assert km.transport == "ipc" and km.ip == str(tmp_path / "kernel-1-ipc")

    async def scenario():
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive("print(6 * 7)", timeout=60,
                                                     output_hook=outputs.append)
            assert reply["content"]["status"] == "ok"
            info = km.get_connection_info()
            assert info["transport"] == "ipc"
            sockets = [pathlib.Path(f"{km.ip}-{info[channel + '_port']}") for channel in ("shell", "iopub", "stdin", "hb", "control")]
            assert all(path.is_socket() for path in sockets), sockets
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    outputs = []
    asyncio.run(scenario())
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["42\n"]


def test_a_users_own_transport_setting_still_wins():
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "tcp"
    km = runtime.IPCKernelManager(kernel_name="python3", connection_file="/tmp/k.json", config=config)
    assert km.transport == "tcp"


def test_xsrf_cookie_gets_the_hubs_options_on_the_servers_path():
    environ = {"JUPYTERHUB_COOKIE_OPTIONS": '{"samesite": "Lax", "secure": true}', "JUPYTERHUB_SERVICE_PREFIX": "/jupyter/user/alice/"}
    assert runtime.xsrf_cookie_kwargs(environ) == {"samesite": "Lax", "secure": True, "path": "/jupyter/user/alice/"}
    assert runtime.xsrf_cookie_kwargs({}) == {}


def test_the_pinned_jupyterhub_hands_servers_the_cookie_options():
    import jupyterhub.spawner

    assert "JUPYTERHUB_COOKIE_OPTIONS" in inspect.getsource(jupyterhub.spawner)


def test_jupyterlab_takes_the_registry_without_running_yarn(monkeypatch):
    import jupyterlab.commands as lab_commands

    monkeypatch.setattr(lab_commands, "_yarn_config", lab_commands._yarn_config)
    assert runtime.give_npm_registry(lab_commands, "https://registry.example.org")

    def no_node(*args, **kwargs):
        raise AssertionError("JupyterLab ran node")

    monkeypatch.setattr(lab_commands, "which", no_node)
    monkeypatch.setattr(lab_commands.subprocess, "check_output", no_node)
    config = lab_commands._yarn_config(logging.getLogger("test"))
    assert config == {"yarn config": {"registry": "https://registry.example.org"}, "npm config": {}}
    # Where JupyterLab reads it.
    assert lab_commands.AppOptions().registry == "https://registry.example.org"


def test_the_pinned_jupyterlab_still_asks_yarn_through_the_replaced_function():
    import jupyterlab.commands as lab_commands

    assert list(inspect.signature(lab_commands._yarn_config).parameters) == ["logger"]
    assert 'configuration = {"yarn config": {}, "npm config": {}}' in inspect.getsource(lab_commands._yarn_config)
    assert '_yarn_config(self.logger)["yarn config"]' in inspect.getsource(lab_commands)


def test_a_jupyterlab_that_changed_is_left_alone():
    class Lab:
        @staticmethod
        def _yarn_config(logger, registry):
            return "theirs"

    assert not runtime.give_npm_registry(Lab, "https://registry.example.org")
    assert Lab._yarn_config(None, None) == "theirs"
    assert not runtime.give_npm_registry(object(), "https://registry.example.org")


def test_node_roots_are_jupyter_lsps_own_with_the_given_npm_prefix(monkeypatch, tmp_path):
    import jupyterlab.commands as lab_commands
    from jupyter_lsp.types import LanguageServerManagerAPI

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: "/usr/bin/npm" if name == "npm" else None)

    class Manager:
        def _npm_prefix(self, npm):
            return "/usr/local"

    theirs = [str(p) for p in LanguageServerManagerAPI._default_node_roots(Manager())]
    assert runtime.node_roots("/usr/local", lab_commands) == theirs
    assert "node_roots" in LanguageServerManagerAPI.class_traits()
