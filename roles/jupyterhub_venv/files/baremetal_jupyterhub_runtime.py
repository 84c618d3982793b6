"""Code that runs inside the hub and inside users' servers.

Role jupyterhub_venv installs this module into the hub's venv (site-packages) and the two
configs it writes import it: jupyterhub_config.py (the hub) and
<venv>/etc/jupyter/jupyter_server_config.py (each user's server). The configs hold only
settings; the logic is here, where tests/unit/roles/test_runtime.py imports it together
with the JupyterHub and JupyterLab releases the role pins, and fails if what it builds on
disappears or changes.
"""

import asyncio
import inspect
import json
import os
import sys


# --- The hub -------------------------------------------------------------------------
def read_env_value(path, key):
    """The value of KEY in a systemd EnvironmentFile-style file of KEY=VALUE lines."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            if sep and name == key:
                return value
    raise RuntimeError(f"{key} is not set in {path}")


def waits_for_port(base, interval=0.05, poll_every=10):
    """A subclass of the spawner class `base` whose start() returns once the new server
    accepts connections.

    The hub checks a started server at random intervals that grow to 5 s
    (jupyterhub.utils.exponential_backoff), so a server that listens after 2.5 s is often
    noticed seconds later. Connecting every `interval` seconds here lets the hub's first
    check find it up. Spawner.start_timeout bounds this wait as it bounds start(). A server
    that exits never listens: every `poll_every` tries the spawner is polled, and a server
    that is gone is left to the hub's own checks.
    """

    async def start(self):
        started = await base.start(self)
        if not isinstance(started, tuple):
            return started
        ip, port = started
        attempt = 0
        while True:
            try:
                writer = (await asyncio.open_connection(ip or "127.0.0.1", port))[1]
            except OSError:
                attempt += 1
                if attempt % poll_every == 0 and await self.poll() is not None:
                    return started
                await asyncio.sleep(interval)
            else:
                writer.close()
                await writer.wait_closed()
                return started

    return type(base.__name__ + "WaitingForPort", (base,), {"start": start})


# --- Users' servers --------------------------------------------------------------------
def xsrf_cookie_kwargs(environ):
    """The options of a server's own _xsrf cookie: those the hub gives its cookies
    (SameSite, and Secure on an HTTPS site), which the hub hands each server in
    JUPYTERHUB_COOKIE_OPTIONS, on the server's path, as Jupyter Server would set it."""
    options = json.loads(environ.get("JUPYTERHUB_COOKIE_OPTIONS") or "{}")
    if environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        options.setdefault("path", environ["JUPYTERHUB_SERVICE_PREFIX"])
    return options


def give_npm_registry(lab_commands, registry):
    """Make JupyterLab take `registry` as its npm registry instead of asking yarn.

    JupyterLab asks yarn for it (`node yarn.js config`, in jupyterlab.commands._yarn_config,
    about 1 s of CPU) when the server imports it and each time it lists extensions; the
    registry only serves installing extensions from npm. A JupyterLab whose _yarn_config
    is not the function of one argument (logger) this replaces is left alone: returns
    whether it was replaced.
    """
    current = getattr(lab_commands, "_yarn_config", None)
    if not callable(current) or list(inspect.signature(current).parameters) != ["logger"]:
        return False

    def site_yarn_config(logger):
        """What jupyterlab.commands._yarn_config returns, with the site's npm registry."""
        return {"yarn config": {"registry": registry}, "npm config": {}}

    lab_commands._yarn_config = site_yarn_config
    return True


def node_roots(npm_prefix, lab_commands=None, cwd=None, prefix=None):
    """Where jupyter-lsp looks for node language servers: its own default list, with the
    site's npm global prefix given instead of asked of npm (`npm prefix -g`, about 1 s of
    CPU each time a user's server starts)."""
    prefix = sys.prefix if prefix is None else prefix
    return (
        [os.getcwd() if cwd is None else cwd]
        + ([os.path.join(lab_commands.get_app_dir(), "staging")] if lab_commands else [])
        + [os.path.join(prefix, "lib"), prefix, os.path.join(npm_prefix, "lib"), npm_prefix]
    )
