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
import pathlib
import shutil
import socket

import pytest
import yaml

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


class _Started:
    """A spawner whose start() returns the address of a server that listens `after` seconds
    later (or never), and whose poll() says whether that server still runs."""

    def __init__(self, port, exited=False):
        self.port, self.exited, self.polls = port, exited, 0

    async def start(self):
        return ("127.0.0.1", self.port)

    async def poll(self):
        self.polls += 1
        return 1 if self.exited else None


def test_the_spawner_returns_once_the_server_listens():
    port = _free_port()
    spawner = runtime.waits_for_port(_Started, interval=0.01)(port)

    async def scenario():
        started = asyncio.ensure_future(spawner.start())
        await asyncio.sleep(0.2)
        assert not started.done(), "start() returned before the server listened"
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
        async with server:
            assert await asyncio.wait_for(started, 2) == ("127.0.0.1", port)

    asyncio.run(scenario())


def test_a_server_that_exits_is_left_to_the_hub():
    spawner = runtime.waits_for_port(_Started, interval=0.01, poll_every=3)(_free_port(), exited=True)
    assert asyncio.run(asyncio.wait_for(spawner.start(), 2))[0] == "127.0.0.1"
    assert spawner.polls == 1


def test_the_pinned_jupyterhubs_spawners_still_fit():
    """What waits_for_port builds on: start() and poll() coroutines, start() returning (ip, port)."""
    from jupyterhub.spawner import LocalProcessSpawner, Spawner

    for cls in (Spawner, LocalProcessSpawner):
        assert inspect.iscoroutinefunction(cls.start) and inspect.iscoroutinefunction(cls.poll), cls
    assert "return (self.ip or '127.0.0.1', self.port)" in inspect.getsource(LocalProcessSpawner.start)
    waiting = runtime.waits_for_port(LocalProcessSpawner)
    assert issubclass(waiting, LocalProcessSpawner) and waiting.__name__ == "LocalProcessSpawnerWaitingForPort"
    assert waiting.start is not LocalProcessSpawner.start


# --- users' servers ---------------------------------------------------------------------------
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
