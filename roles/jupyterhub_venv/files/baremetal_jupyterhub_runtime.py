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
import pwd
import re
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


def user_facing_error(message):
    """A 500 whose message JupyterHub shows the user (spawn page, progress, error page)."""
    from tornado import web

    error = web.HTTPError(500, "%s", message)
    error.jupyterhub_message = message
    return error


def listening_uids(port, proc_net="/proc/net"):
    """The uids that own a socket listening on TCP `port` (any address, IPv4 or IPv6), from
    the kernel's socket tables. Another account cannot listen under a user's uid."""
    uids = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc_net, table), encoding="ascii") as f:
                next(f, None)  # the header
                for line in f:
                    fields = line.split()
                    # local_address is ADDR:PORT in hex; state 0A is LISTEN; the 8th field is the uid
                    if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:
                        uids.add(int(fields[7]))
        except FileNotFoundError:
            continue
    return uids


def _account_uid(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def waits_for_port(base, interval=0.05, poll_every=10, attempts=2, proc_net="/proc/net", at_once=0):
    """A subclass of the spawner class `base` whose start() returns once the user's own new
    server accepts connections, on a port that no one else holds, with at most `at_once`
    servers starting at the same time (0: one per CPU the hub may use).

    - The hub checks a started server at random intervals that grow to 5 s
      (jupyterhub.utils.exponential_backoff), so a server that listens after 2.5 s is often
      noticed seconds later. Connecting every `interval` seconds here lets the hub's first
      check find it up. Spawner.start_timeout bounds this wait as it bounds start().
    - The spawners pick the server's port (jupyterhub.utils.random_port) seconds before the
      server binds it, and every kernel, and every other program on the machine, picks its
      ports from the same range in the meantime. In a run of 50 users starting at once, one
      server found its port taken, exited, and the hub, which only connects, routed the user
      to whatever held it. So the listener must belong to the user's account (the
      kernel's socket table says whose it is): a port held by another account, or a server
      that exits before it listens (polled every `poll_every` tries), is stopped and started
      again on a new port, `attempts` times in all; then the start fails with the reason.
    - A server start is about a second of CPU. Fifty started at once share the CPUs, and all
      of them were ready only at the end (38 s on 2 cores), each costing more CPU than alone.
      Started a few at a time, the first users get their server within seconds, and the
      last no later. The others wait in line; their progress says how many are ahead.
    """
    size = at_once or len(os.sched_getaffinity(0))
    starting = asyncio.Semaphore(size)
    waiting = []  # who waits, in order

    async def own_server_listens(self, ip, port, uid):
        """None once the user's server listens on `port`; else why not."""
        tries = 0
        while True:
            try:
                writer = (await asyncio.open_connection(ip or "127.0.0.1", port))[1]
            except OSError:
                tries += 1
                if tries % poll_every == 0 and await self.poll() is not None:
                    return "the server exited before it accepted connections"
                await asyncio.sleep(interval)
                continue
            writer.close()
            await writer.wait_closed()
            owners = listening_uids(port, proc_net)
            if uid is None or owners == {uid}:
                return None
            if owners:
                return f"port {port} is held by another account's program (uid {min(owners - {uid})})"
            await asyncio.sleep(interval)  # the listener closed again: look once more

    async def start_own_server(self):
        chosen_port = self.port  # 0 unless the admin fixed one: then every attempt uses it
        uid = _account_uid(self.user.name)
        for attempt in range(1, attempts + 1):
            started = await base.start(self)
            if not isinstance(started, tuple):
                return started
            why = await own_server_listens(self, *started, uid)
            if why is None:
                return started
            self.log.warning("%s's server, start %d of %d: %s", self.user.name, attempt, attempts, why)
            await self.stop(now=True)
            self.port = chosen_port
        raise user_facing_error(f"Your server did not start: {why} ({attempts} tries).")

    async def start(self):
        waiting.append(self)
        try:
            async with starting:
                waiting.remove(self)
                return await start_own_server(self)
        finally:
            if self in waiting:  # cancelled while waiting (the hub's start_timeout)
                waiting.remove(self)

    async def progress(self):
        """The hub's progress events (the spawn-pending page): the place in line, if any."""
        said = None
        while self in waiting:
            ahead = waiting.index(self) + size
            message = f"Waiting for {ahead} other server start{'s' if ahead > 1 else ''} before yours"
            if message != said:
                yield {"progress": 10, "message": message}
                said = message
            await asyncio.sleep(0.5)
        async for event in base.progress(self):
            yield event

    return type(base.__name__ + "WaitingForPort", (base,), {"start": start, "progress": progress})


# --- Users' servers --------------------------------------------------------------------
# The longest path a Unix socket may have (sun_path is 108 bytes, with its final NUL).
UNIX_SOCKET_PATH_MAX = 107


def kernel_transport(argv, connection_file):
    """How a kernel started by `argv` should talk to its server: "ipc" (Unix sockets next to
    its connection file, in the user's private runtime folder) for IPython kernels, "tcp"
    (ports on 127.0.0.1) for the rest.

    Over TCP, each kernel takes five ports that the server picks (bind to port 0, close, hand
    the number over) moments before the kernel binds them. Fifty users starting kernels at
    once pick hundreds of ports from the one range the whole machine shares; a kernel whose
    port another process took in between cannot start, and its restarts get the same ports:
    the kernel never answers ("Timeout waiting for kernel_info reply"). Unix sockets have no
    such race, and no other account can even connect to them. ipykernel speaks both; other
    kernels (IRkernel, ...) may speak only TCP. A socket path too long for the kernel
    (deep home folders, long names), or a runtime folder on a file system that holds no
    sockets (SMB homes), keeps TCP."""
    speaks_ipc = any(os.path.basename(str(arg)) in ("ipykernel_launcher", "ipykernel") for arg in argv or ())
    longest = os.path.splitext(connection_file or "")[0] + "-ipc-99"
    if (speaks_ipc and connection_file and len(os.fsencode(longest)) <= UNIX_SOCKET_PATH_MAX
            and holds_unix_sockets(os.path.dirname(connection_file))):
        return "ipc"
    return "tcp"


_HOLDS_SOCKETS = {}


def holds_unix_sockets(folder):
    """Whether a Unix socket can be bound in `folder` (asked once per folder, by binding one)."""
    if folder not in _HOLDS_SOCKETS:
        import socket
        import uuid

        path = os.path.join(folder, f".bmjh-socket-check-{uuid.uuid4().hex[:8]}")
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(path)
            _HOLDS_SOCKETS[folder] = True
        except OSError:
            _HOLDS_SOCKETS[folder] = False
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
    return _HOLDS_SOCKETS[folder]


def _ipc_kernel_manager():
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
    from traitlets import default

    class IPCKernelManager(ServerKernelManager):
        """jupyter_server's kernel manager, with kernel_transport()'s choice as the default
        transport (a user's own config of KernelManager.transport still wins)."""

        @default("transport")
        def _default_transport(self):
            try:
                argv = self.kernel_spec.argv
            except Exception:  # no such kernel: starting it fails anyway, with its own error
                return "tcp"
            return kernel_transport(argv, self.connection_file)

    return IPCKernelManager


def __getattr__(name):
    """IPCKernelManager, built on first use: only users' servers import jupyter_server."""
    if name == "IPCKernelManager":
        globals()[name] = _ipc_kernel_manager()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


# --- Users' servers as Slurm jobs (jupyterhub_venv_spawner: slurm) ----------------------
# The batch script of a user's server: batchspawner renders it with Jinja (its request
# values, {{cmd}}: node_server() on the node, and jupyterhub-singleuser). No
# --get-user-env=L: Slurm 25.05 refuses the argument (batchspawner #319) and --export of a
# list of variables implies --get-user-env anyway.
SLURM_BATCH_SCRIPT = """#!/bin/bash
#SBATCH --job-name=jupyterhub-{{username}}
#SBATCH --output={{homedir}}/jupyterhub_slurmspawner_%j.log
#SBATCH --chdir={{homedir}}
#SBATCH --export={{keepvars}}
#SBATCH --partition={{partition}}
#SBATCH --cpus-per-task={{nprocs}}
#SBATCH --mem={{memory}}
#SBATCH --time={{runtime}}
{% if gres %}#SBATCH --gres={{gres}}
{% endif %}
set -euo pipefail
{{prologue}}
exec {{cmd}}
"""

SLURM_FIELDS = ("partition", "cpus", "memory", "time", "gpus")


def _whole(value, what, low, high):
    """An integer from a form field ("4") or JSON (4), within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    number = int(str(value).strip())
    if not low <= number <= high:
        raise ValueError(f"{what}: {number} is outside what this partition allows ({low} to {high})")
    return number


def memory_mib(value):
    """MiB from "512M", "2G", "1536" (MiB), as Slurm's --mem reads them; ValueError if not."""
    text = str(value).strip().upper() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    unit = text[-1:] if text[-1:] in ("M", "G") else ""
    digits = text[: len(text) - len(unit)]
    if not digits.isdigit() or int(digits) == 0:
        raise ValueError(f"memory must be a size such as 512M or 2G, got {value!r}")
    return int(digits) * (1024 if unit == "G" else 1)


def slurm_defaults(partition):
    """What the form offers first on a partition: 1 CPU, 1 GiB, 60 minutes, no GPU (each
    within the partition's limits)."""
    return {
        "cpus": 1,
        "memory": f"{min(1024, memory_mib(partition['max_memory']))}M",
        "time": min(60, int(partition["max_time"])),
        "gpus": 0,
    }


def slurm_request(partitions, options):
    """The job a user asks for, from the form or from the REST API's user_options, checked
    against the admin's partitions and limits (each a dict: name, max_cpus, max_memory,
    max_time in minutes, max_gpus). Returns the user options as they are kept (strings,
    normalised); raises ValueError saying what is wrong. Anything else a user sends (a
    batch-script variable such as `cmd`, an option of sbatch) is refused, not passed on."""
    if not isinstance(options, dict):
        raise ValueError("the options must be a mapping of " + ", ".join(SLURM_FIELDS))
    unknown = sorted(set(options) - set(SLURM_FIELDS))
    if unknown:
        raise ValueError(f"unknown option {', '.join(map(repr, unknown))}: this hub takes " + ", ".join(SLURM_FIELDS))
    offered = {p["name"]: p for p in partitions}
    name = options.get("partition", partitions[0]["name"])
    if name not in offered:
        raise ValueError(f"partition {name!r} is not offered here; choose one of {', '.join(offered)}")
    limits = offered[name]
    first = slurm_defaults(limits)
    cpus = _whole(options.get("cpus", first["cpus"]), "CPUs", 1, int(limits["max_cpus"]))
    mib = memory_mib(options.get("memory", first["memory"]))
    most = memory_mib(limits["max_memory"])
    if mib > most:
        raise ValueError(f"memory: {mib}M is more than this partition allows ({most}M)")
    minutes = _whole(options.get("time", first["time"]), "wall time (minutes)", 1, int(limits["max_time"]))
    gpus = _whole(options.get("gpus", 0), "GPUs", 0, int(limits.get("max_gpus", 0)))
    return {"partition": name, "cpus": str(cpus), "memory": f"{mib}M", "time": str(minutes), "gpus": str(gpus)}


def slurm_options_form(partitions):
    """The spawn page's form: a partition and what to ask of it, each field bounded by the
    largest limit (the hub checks the chosen partition's own limits)."""
    from html import escape

    def most(key):
        return max(int(p.get(key, 0)) for p in partitions)

    first = slurm_defaults(partitions[0])
    choices = "".join(
        f'<option value="{escape(p["name"])}">{escape(p["name"])}: up to {int(p["max_cpus"])} CPUs, '
        f'{escape(str(p["max_memory"]))}, {int(p["max_time"])} min'
        + (f', {int(p.get("max_gpus", 0))} GPUs' if int(p.get("max_gpus", 0)) else "")
        + "</option>"
        for p in partitions
    )
    gpu_field = (
        '<label for="gpus">GPUs</label>'
        f'<input class="form-control" type="number" id="gpus" name="gpus" min="0" max="{most("max_gpus")}" value="0">'
        if most("max_gpus")
        else ""
    )
    return (
        '<label for="partition">Partition</label>'
        f'<select class="form-control" id="partition" name="partition">{choices}</select>'
        '<label for="cpus">CPUs</label>'
        f'<input class="form-control" type="number" id="cpus" name="cpus" min="1" max="{most("max_cpus")}" value="{first["cpus"]}">'
        '<label for="memory">Memory (such as 512M or 2G)</label>'
        f'<input class="form-control" type="text" id="memory" name="memory" pattern="[0-9]+[MGmg]?" value="{first["memory"]}">'
        '<label for="time">Wall time (minutes)</label>'
        f'<input class="form-control" type="number" id="time" name="time" min="1" max="{most("max_time")}" value="{first["time"]}">'
        + gpu_field
    )


# A Unix account's name, as the collection's rule has it (plugins/module_utils/rules.py
# ACCOUNT_NAME; tests/unit/roles/test_runtime_slurm.py holds the two equal).
ACCOUNT_NAME = re.compile(r"\A[a-z_][a-z0-9_.-]{0,31}\Z")
# LOW-HIGH, two port numbers (plugins/module_utils/rules.py PORT_RANGE).
PORT_RANGE = re.compile(r"\A[0-9]{1,5}-[0-9]{1,5}\Z")
# A path that a shell word and a batch script's #SBATCH line take as it is.
SAFE_PATH = re.compile(r"\A/[A-Za-z0-9_./+@-]*\Z")


def account_name_ok(name):
    """Whether `name` is a Unix account's name (what sudo -u and #SBATCH lines may carry)."""
    return isinstance(name, str) and ACCOUNT_NAME.match(name) is not None


def safe_path(path):
    """Whether `path` is absolute and has no character a shell or a batch script reads."""
    return isinstance(path, str) and SAFE_PATH.match(path) is not None and "/../" not in path + "/"


# batchspawner's route for a node's server to report its port (registered by `import
# batchspawner`, under the hub's prefix), which use_port_report_handler() takes over.
PORT_REPORT_ROUTE = r"/api/batchspawner"


def port_report(spawner, token, body):
    """The port a node's server reports for `spawner` (the caller's server whose token is
    `token`, None when the token is no server's), from the request's `body` (bytes); raises
    ValueError saying why a report is refused.

    batchspawner 1.3.0's own handler setattr()s every key of the posted JSON on the caller's
    spawner: with the token every user's server holds, {"exec_prefix": "id > /tmp/x;"} made
    the hub run that through a shell at its next poll (as the hub's account, root by
    default). Here the hub takes a port and nothing else: an integer 1-65535, only from the
    server's own token, only while that server is starting and has reported none."""
    if spawner is None:
        raise ValueError("the token is not that of a server that is starting")
    try:
        data = json.loads(body or b"")
    except ValueError:
        raise ValueError("the report is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"port"}:
        keys = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"a server reports its port and nothing else, got {keys}")
    port = data["port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"the port must be a whole number from 1 to 65535, got {port!r}")
    if spawner.pending != "spawn":
        raise ValueError("the server is not starting")
    if spawner.port:
        raise ValueError(f"the server has reported its port already ({spawner.port})")
    return port


def _port_report_handler():
    from jupyterhub.apihandlers import APIHandler
    from tornado import web

    class PortReportHandler(APIHandler):
        """POST /hub/api/batchspawner, {"port": N}: a node's server reports the port it
        listens on (port_report() says what is taken)."""

        @web.authenticated
        def post(self):
            user = self.current_user
            token = self.get_auth_token()
            spawner = next((s for s in getattr(user, "spawners", {}).values() if token and s.api_token == token), None)
            try:
                spawner.port = port_report(spawner, token, self.request.body)
            except ValueError as e:
                self.log.warning("Port report refused for %s: %s", getattr(user, "name", user), e)
                raise web.HTTPError(400, str(e)) from None
            self.log.info("%s's server reported port %d", user.name, spawner.port)
            self.set_status(201)
            self.finish(json.dumps({"message": "port received"}))

    return PortReportHandler


def use_port_report_handler(handlers=None):
    """Put PortReportHandler in the place of batchspawner's handler in the hub's API routes
    (jupyterhub.apihandlers.default_handlers, where `import batchspawner` appends its own).
    Raises RuntimeError when the route is not there: a batchspawner that registers it
    otherwise must be looked at before the hub runs with it."""
    if handlers is None:
        from jupyterhub.apihandlers import default_handlers as handlers
    places = [i for i, route in enumerate(handlers) if route[0] == PORT_REPORT_ROUTE]
    if not places:
        raise RuntimeError(f"batchspawner's {PORT_REPORT_ROUTE} route is not among the hub's API routes")
    handler = _port_report_handler()
    for i in places:
        handlers[i] = (PORT_REPORT_ROUTE, handler)
    return handler


# --- A user's server in a Slurm job, on the node ------------------------------------------
def port_range(text):
    """(low, high) from "LOW-HIGH" (ports 1024-65535; the collection's rule is_port_range,
    held equal by the unit tests), or None for "" (any free port)."""
    if text == "":
        return None
    match = PORT_RANGE.match(text) if isinstance(text, str) else None
    low, high = (int(part) for part in text.split("-")) if match else (0, 0)
    if not 1024 <= low <= high <= 65535:
        raise ValueError(f"a port range is LOW-HIGH within 1024-65535, got {text!r}")
    return low, high


def free_port(ports=None, rng=None):
    """A port no socket is bound to now: any (the kernel's choice), or one of `ports`
    ((low, high)) tried in random order; None when every port of the range is taken."""
    import random
    import socket

    if ports is None:
        candidates = [0]
    else:
        candidates = list(range(ports[0], ports[1] + 1))
        (rng or random).shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    return None


def with_port(service_url, port):
    """JUPYTERHUB_SERVICE_URL with `port` for the one the hub wrote (0 in a batch job)."""
    from urllib.parse import urlsplit, urlunsplit

    url = urlsplit(service_url)
    host = url.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return urlunsplit(url._replace(netloc=f"{host}:{port}"))


def report_port(environ, port, post=None):
    """POST {"port": port} to the hub's port-report route with the server's own token (and
    the internal TLS client certificate, where the hub gave one). Returns None when the hub
    took it, else the hub's answer (the hub refuses a server it is not starting)."""
    import ssl
    import urllib.error
    import urllib.request

    url = environ["JUPYTERHUB_API_URL"].rstrip("/") + "/batchspawner"
    request = urllib.request.Request(url, data=json.dumps({"port": port}).encode(), method="POST", headers={
        "Authorization": f"token {environ['JUPYTERHUB_API_TOKEN']}", "Content-Type": "application/json"})
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=environ.get("JUPYTERHUB_SSL_CLIENT_CA") or None)
        if environ.get("JUPYTERHUB_SSL_CERTFILE"):
            context.load_cert_chain(environ["JUPYTERHUB_SSL_CERTFILE"], environ.get("JUPYTERHUB_SSL_KEYFILE"))
    try:
        with (post or urllib.request.urlopen)(request, timeout=60, context=context) as answer:
            return None if 200 <= answer.status < 300 else f"{answer.status}"
    except urllib.error.HTTPError as e:
        return f"{e.code} {e.read().decode(errors='replace')[:500]}"
    except OSError as e:
        return str(e)


# --- The job's secrets, sealed with MUNGE ----------------------------------------------
# Slurm carries a job's environment from sbatch through slurmctld to slurmd in the clear (and
# keeps it in slurmctld's state files): the server's token and its TLS key would cross the
# cluster network as plain text. The hub seals them into one variable with MUNGE, which the
# cluster runs already: the credential is encrypted with the cluster's key, decodes for the
# user's account only (--restrict-uid), once (MUNGE's replay cache), and expires.
JOB_SECRETS_VAR = "BMJH_JOB_SECRETS"
# The variables sealed as they are.
SEALED_VARS = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")
# The internal TLS files of a user's server (the hub's paths are of no use on a node): their
# contents are sealed, and the node writes them into a folder of the user's alone.
TLS_FILES = {"JUPYTERHUB_SSL_KEYFILE": "server.key", "JUPYTERHUB_SSL_CERTFILE": "server.crt",
             "JUPYTERHUB_SSL_CLIENT_CA": "notebooks-ca.crt"}


def seal_secrets(env, tls_contents, uid, ttl, munge="/usr/bin/munge", run=None):
    """`env` without its secrets and with JOB_SECRETS_VAR: a MUNGE credential for `uid`
    alone, valid `ttl` seconds, of the sealed variables and the TLS files' contents
    (`tls_contents`: {variable: text}). Raises RuntimeError when munge fails: a job must
    not be submitted with its secrets in the clear."""
    import subprocess

    payload = {"env": {name: env[name] for name in SEALED_VARS if name in env},
               "files": {name: tls_contents[name] for name in TLS_FILES if name in tls_contents}}
    result = (run or subprocess.run)([munge, f"--restrict-uid={int(uid)}", f"--ttl={int(ttl)}"],
                                     input=json.dumps(payload).encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"munge could not seal the job's secrets ({result.returncode}): "
                           + result.stderr.decode(errors="replace").strip())
    kept = {name: value for name, value in env.items() if name not in SEALED_VARS and name not in TLS_FILES}
    kept[JOB_SECRETS_VAR] = result.stdout.decode().strip()
    return kept


def open_secrets(credential, unmunge="/usr/bin/unmunge", run=None):
    """The payload seal_secrets() sealed ({"env": ..., "files": ...}); ValueError when MUNGE
    does not vouch for it. Only exit status 0 counts: unmunge prints the payload of a
    replayed credential too (status 17), and of none for another account (18) or an
    expired one (15)."""
    import subprocess

    result = (run or subprocess.run)([unmunge, "--metadata=/dev/null"], input=credential.encode(),
                                     capture_output=True, check=False)
    if result.returncode != 0:
        raise ValueError(f"unmunge refused the job's secrets ({result.returncode}): "
                         + result.stderr.decode(errors="replace").strip())
    payload = json.loads(result.stdout)
    if not isinstance(payload, dict) or not isinstance(payload.get("env"), dict) or not isinstance(payload.get("files"), dict):
        raise ValueError("the job's secrets are not what the hub seals")
    return payload


def unseal_job_environment(environ, folder, unmunge="/usr/bin/unmunge", run=None):
    """`environ` with the secrets of its JOB_SECRETS_VAR (which it loses) restored: the
    sealed variables, and each TLS file written into `folder` (made 0700, files 0600) with
    its variable naming it. `environ` is returned as it is when it has no JOB_SECRETS_VAR
    (a hub that seals nothing)."""
    if JOB_SECRETS_VAR not in environ:
        return dict(environ)
    payload = open_secrets(environ[JOB_SECRETS_VAR], unmunge, run)
    env = {name: value for name, value in environ.items() if name != JOB_SECRETS_VAR}
    env.update({name: str(value) for name, value in payload["env"].items() if name in SEALED_VARS})
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    for name, text in payload["files"].items():
        if name not in TLS_FILES:
            continue
        path = os.path.join(folder, TLS_FILES[name])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        env[name] = path
    return env


def node_server(argv, environ=None, ports=None, attempts=3, interval=0.1, proc_net="/proc/net", post=None):
    """Run a user's server in their Slurm job (argv: jupyterhub-singleuser and its
    arguments) and tell the hub its port, once the server listens there under the user's
    own account; returns the server's exit status.

    batchspawner-singleuser reported a port first and bound it later (and the hub skips its
    own listener check for Slurm): another user on the node who bound that port in between
    got the victim's requests and cookie. Here the server starts on a free port (of
    `ports`, (low, high), where the site's firewall wants a range), the port is reported
    only when the kernel's socket table says the listener is this account's, and a port
    taken by someone else means a new start on another port (`attempts` in all). A report
    the hub refuses (a hub that is not starting this server: restarted meanwhile, or the
    start cancelled) ends the server: no job runs on that the hub does not know of."""
    import signal
    import subprocess

    environ = dict(os.environ if environ is None else environ)
    uid = os.getuid()
    why = "no attempt"
    for attempt in range(1, attempts + 1):
        port = free_port(ports)
        if port is None:
            why = f"every port of {ports[0]}-{ports[1]} is taken"
            break
        env = dict(environ, JUPYTERHUB_SERVICE_URL=with_port(environ.get("JUPYTERHUB_SERVICE_URL", "http://0.0.0.0:0/"), port))
        try:
            server = subprocess.Popen(argv, env=env)
        except OSError as e:
            why = f"{argv[0]} could not be run ({e.strerror})"
            break
        why = _own_listener(server, port, uid, interval, proc_net)
        if why is None:
            refused = report_port(environ, port, post)
            if refused is None:
                print(f"Port {port} reported to the hub", file=sys.stderr, flush=True)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(signum, lambda n, frame: server.send_signal(n))
                return server.wait()
            why = f"the hub refused the port report ({refused})"
            _end(server)
            break
        print(f"Start {attempt} of {attempts} on port {port}: {why}", file=sys.stderr, flush=True)
        _end(server)
    print(f"The server was not started: {why}", file=sys.stderr, flush=True)
    return 1


def _own_listener(server, port, uid, interval, proc_net):
    """None once `port` has a listener and every listener on it is `uid`'s; else why not."""
    import time

    while server.poll() is None:
        owners = listening_uids(port, proc_net)
        if owners - {uid}:
            return f"port {port} is held by another account's program (uid {min(owners - {uid})})"
        if owners:
            return None
        time.sleep(interval)
    return f"the server exited ({server.returncode}) before it listened on port {port}"


def _end(server, grace=10):
    import subprocess

    if server.poll() is None:
        server.terminate()
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def node_server_main(argv=None):
    """`python -m baremetal_jupyterhub_runtime node-server [--ports LOW-HIGH] -- CMD...`."""
    import argparse

    parser = argparse.ArgumentParser(prog="baremetal_jupyterhub_runtime node-server")
    parser.add_argument("--ports", type=port_range, default=None)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("the server's command is missing")
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="jupyterhub-tls-")
    try:
        try:
            environ = unseal_job_environment(os.environ, folder)
        except (ValueError, OSError) as e:
            print(f"The server was not started: {e}", file=sys.stderr, flush=True)
            return 1
        return node_server(cmd, environ=environ, ports=args.ports)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# What the hub asks squeue of a job: its state, expected (or actual) start, node and Slurm's
# reason, the reason last because it may hold spaces ("ReqNodeNotAvail, UnavailableNodes:...").
SLURM_JOB_FORMAT = "%T %S %B %r"
# The node in such a line (batchspawner's state_exechost_re reads the last word).
SLURM_EXECHOST_RE = r"^\S+\s+\S+\s+([\w.-]+)"
# squeue's answer when the controller does not answer, on any line of what it and sudo
# printed (batchspawner's pattern is anchored to the first: a line of sudo's before it,
# such as "sudo: unable to send audit message", made the hub drop every running server
# while slurmctld was down).
SLURM_UNKNOWN_RE = r"(?m)^slurm_load_jobs error: (?:Socket timed out on send/recv|Unable to contact slurm controller)"


def slurm_queue_message(job_status):
    """What the spawn page says of a job from squeue's SLURM_JOB_FORMAT line: while it waits,
    Slurm's reason and the expected start where Slurm knows one."""
    state, start, _node, reason = (job_status.strip().split(None, 3) + ["", "", "", ""])[:4]
    if state != "PENDING":
        return f"Your job is {state.lower() or 'not listed by Slurm yet'}"
    known = start not in ("", "N/A", "Unknown", "None")
    return ("Waiting in Slurm's queue" + (f": {reason}" if reason not in ("", "None") else "")
            + (f", expected to start at {start.replace('T', ' ')}" if known else ""))


# How the hub runs Slurm's commands as the user: an unprivileged hub through its sudo rule,
# a root hub with runuser.
SLURM_AS_USER = {"sudo": "/usr/bin/sudo -u {username}", "runuser": "/usr/sbin/runuser -u {username} --"}


def slurm_spawner(partitions, bin_dir="/usr/bin", singleuser_cmd="batchspawner-singleuser", died_check_every=2.0,
                  job_env=(), run_as="sudo", munge="/usr/bin/munge"):
    """batchspawner's SlurmSpawner with the site's resource form and limits.

    - A node's server may report its port and nothing else (use_port_report_handler).
    - Jobs are submitted, asked about and cancelled as the user (`run_as`: "sudo" for an
      unprivileged hub, absolute paths so that the sudo rule matches; "runuser" for a root
      hub): a cluster with PrivateData=jobs shows a job to its owner only.
    - The job gets the variables named in `job_env` (the names the sudo rule keeps) and no
      others; one that the hub's config adds beyond them is left out, with a warning. Its
      secrets (the server's token, its internal TLS files' contents) are sealed with
      `munge` for the user alone (seal_secrets): Slurm carries the job's environment across
      the cluster network in the clear.
    - A user whose name or home is not as a Unix account's (account_name_ok) gets no job:
      both are written into the batch script and sudo's command line.
    - A job that ends after Slurm started it but before its server reported its port fails
      the start with a message the user sees, instead of waiting out start_timeout
      (batchspawner #253, fixed after its 1.3.0 release).
    """
    import batchspawner
    from tornado import web
    from traitlets import Unicode, default

    use_port_report_handler()
    job_env = tuple(job_env)
    as_user = SLURM_AS_USER[run_as]

    def apply_user_options(spawner, user_options):
        try:
            request = slurm_request(partitions, user_options or {})
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from e
        # batchspawner puts user_options into the batch script's variables: only the
        # checked values may reach it.
        spawner.user_options = request
        spawner.req_partition = request["partition"]
        spawner.req_nprocs = request["cpus"]
        spawner.req_memory = request["memory"]
        spawner.req_runtime = request["time"]
        spawner.req_gres = f"gpu:{request['gpus']}" if request["gpus"] != "0" else ""

    class ResourceFormSlurmSpawner(batchspawner.SlurmSpawner):
        batch_script = Unicode(SLURM_BATCH_SCRIPT).tag(config=True)
        exec_prefix = Unicode("").tag(config=True)
        # The job's variables (get_env below) reach sbatch without being named on a command
        # line: an unprivileged hub's sudo rule keeps exactly these (env_keep; sudo logs the
        # values of variables asked for with --preserve-env, tokens included, to the
        # journal), and runuser keeps what a root hub gives it (get_env and nothing else).
        batch_submit_cmd = Unicode(f"{as_user} {bin_dir}/sbatch --parsable").tag(config=True)
        # squeue as the user too: a cluster with PrivateData=jobs shows a job to its owner (and
        # Slurm's operators) only.
        batch_query_cmd = Unicode(
            f"{as_user} {bin_dir}/squeue -h -j {{job_id}} -o '{SLURM_JOB_FORMAT}'").tag(config=True)
        state_exechost_re = Unicode(SLURM_EXECHOST_RE).tag(config=True)
        state_unknown_re = Unicode(SLURM_UNKNOWN_RE).tag(config=True)
        batch_cancel_cmd = Unicode(f"{as_user} {bin_dir}/scancel {{job_id}}").tag(config=True)
        # On the node: node_server(), which reports the port once the user's server listens there.
        batchspawner_singleuser_cmd = Unicode(singleuser_cmd).tag(config=True)

        # The contents of the server's internal TLS files (move_certs), sealed into its job.
        tls_contents = {}

        async def move_certs(self, paths):
            """The hub's paths of a server's certificate, key and CA are of no use on a node:
            their contents travel in the job's sealed secrets (get_env)."""
            names = {"JUPYTERHUB_SSL_KEYFILE": "keyfile", "JUPYTERHUB_SSL_CERTFILE": "certfile",
                     "JUPYTERHUB_SSL_CLIENT_CA": "cafile"}
            contents = {}
            for variable, key in names.items():
                with open(paths[key], encoding="utf-8") as f:
                    contents[variable] = f.read()
            self.tls_contents = contents
            return paths

        # The job's variables of this start, sealed once (batchspawner asks for them three
        # times a start): (the server's token, the variables).
        sealed_env = (None, {})

        def get_env(self):
            if self.sealed_env[0] is not None and self.sealed_env[0] == self.api_token:
                return dict(self.sealed_env[1])
            uid = pwd.getpwnam(self.user.name).pw_uid
            env = seal_secrets(super().get_env(), self.tls_contents, uid,
                               ttl=min(int(self.start_timeout) + 60, 3600), munge=munge)
            dropped = sorted(set(env) - set(job_env))
            if dropped:
                self.log.warning("%s's job gets no %s: the sudo rule keeps only %s", self.user.name,
                                 ", ".join(dropped), ", ".join(job_env))
            env = {name: value for name, value in env.items() if name in job_env}
            self.sealed_env = (self.api_token, env)
            return dict(env)

        @default("options_form")
        def _slurm_options_form(self):
            return slurm_options_form(partitions)

        @default("apply_user_options")
        def _slurm_apply_user_options(self):
            return apply_user_options

        def options_from_form(self, formdata):
            # The spawn page's own field (_xsrf, which the hub has checked) is not a request.
            options = {key: values[0] for key, values in formdata.items() if key != "_xsrf" and values and values[0] != ""}
            return slurm_request(partitions, options)

        # batchspawner forgets a job that ended before it says so: remembered here for the message.
        last_job_id = ""

        async def query_job_status(self):
            self.last_job_id = self.job_id or self.last_job_id
            return await super().query_job_status()

        async def progress(self):
            """The spawn page's progress: why the job waits (Slurm's reason, the expected
            start), then where it runs, each said once (batchspawner repeated "Pending in
            queue..." every second)."""
            said = None
            while True:
                if self.state_isrunning():
                    yield {"message": f"Your job runs on {self.state_gethost()}: starting your server"}
                    return
                message = slurm_queue_message(self.job_status or "")
                if message != said:
                    yield {"message": message}
                    said = message
                await asyncio.sleep(1)

        def start_failed(self, why):
            """The error the user sees (on the spawn page, in its progress, on the error page of
            a start that failed within its first second), saying where the job's output is."""
            job = self.last_job_id
            if job:
                message = (f"Your server's Slurm job {job} ended before the server started ({why})."
                           f" What it printed is in {self.req_homedir}/jupyterhub_slurmspawner_{job}.log")
            else:
                message = f"Slurm did not take your server's job: {why}"
            return user_facing_error(message)

        async def start(self):
            self.last_job_id = ""
            if not account_name_ok(self.user.name) or not safe_path(self.req_homedir):
                raise user_facing_error(
                    f"Your server was not submitted: the account {self.user.name!r} (home {self.req_homedir!r})"
                    " has a name or home that cannot be written into a batch script.")
            started = asyncio.ensure_future(super().start())
            try:
                while True:
                    done = (await asyncio.wait({started}, timeout=died_check_every))[0]
                    if done:
                        try:
                            return started.result()
                        except RuntimeError as e:
                            # batchspawner's own checks: sbatch gave no job id, or the job
                            # left the queue before Slurm ran it.
                            raise self.start_failed("gone from the queue" if self.last_job_id else str(e)) from e
                    # Slurm started the job (batchspawner then knows its node) but the
                    # server has not reported its port: is the job still there?
                    if self.job_id and self.ip not in ("", "0.0.0.0") and self.port == 0:
                        status = await self.query_job_status()
                        if status == batchspawner.JobStatus.NOTFOUND and not started.done():
                            raise self.start_failed(self.job_status.strip() or "gone from the queue")
            finally:
                if not started.done():
                    started.cancel()

    return ResourceFormSlurmSpawner


if __name__ == "__main__":
    if sys.argv[1:2] != ["node-server"]:
        sys.exit("usage: python -m baremetal_jupyterhub_runtime node-server [--ports LOW-HIGH] -- CMD...")
    sys.exit(node_server_main(sys.argv[2:]))
