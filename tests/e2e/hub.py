"""A small JupyterHub client for the end-to-end tests: logs in like a browser does,
spawns, talks to the hub's REST API and to users' servers through the proxy."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import pathlib
import subprocess
import tempfile
import time
import uuid
from urllib.parse import urljoin, urlsplit

import requests
import websocket

TIMEOUT = 30
# Where tests keep what they measured or saw (screenshots, timings): $BMJH_ARTIFACTS, which
# molecule's verify sets, or the checkout's tests/artifacts wherever pytest runs from.
ARTIFACTS = pathlib.Path(os.environ.get("BMJH_ARTIFACTS") or pathlib.Path(__file__).resolve().parents[1] / "artifacts")


@dataclasses.dataclass(frozen=True)
class Target:
    container: str
    url: str  # the hub's public base URL, ending in "/"
    http_url: str | None = None  # the same over plain HTTP (redirects to url)
    direct_url: str | None = None  # a published port that must not answer
    other_url: str | None = None  # another site on the same nginx
    ca: str | None = None  # CA certificate inside the container for an HTTPS url
    firewalled: str | None = None  # host:port published from the container's port 8099

    @functools.cached_property
    def verify(self) -> bool | str:
        """What requests should verify the hub's TLS certificate with."""
        if not self.url.startswith("https:") or not self.ca:
            return True
        pem = self.exec("cat", self.ca).stdout
        path = pathlib.Path(tempfile.gettempdir()) / f"bmjh-{self.container}-ca.pem"
        path.write_text(pem)
        return str(path)

    def exec(self, *argv: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["docker", "exec"] + (["-u", user] if user else []) + [self.container, *argv]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=300)

    def pids(self, user: str, pattern: str) -> list[int]:
        """PIDs of the processes of `user` whose command line contains `pattern`
        (read from /proc: minimal images have no pgrep)."""
        script = (
            "import os, pwd, sys\n"
            "uid = pwd.getpwnam(sys.argv[1]).pw_uid\n"
            "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
            "    if int(pid) == os.getpid(): continue\n"
            "    try:\n"
            "        if os.stat(f'/proc/{pid}').st_uid != uid: continue\n"
            "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()\n"
            "    except OSError: continue\n"
            "    if sys.argv[2] in cmd: print(pid)\n"
        )
        out = self.exec("python3", "-c", script, user, pattern).stdout
        return sorted(int(p) for p in out.split())


def password(user: str) -> str:
    return f"{user}-pw"


class HubSession:
    """One user's browser-like session with a hub."""

    def __init__(self, target: Target, user: str):
        self.target = target
        self.user = user
        self.http = requests.Session()
        # Not the environment's CA bundle (REQUESTS_CA_BUNDLE would override `verify`).
        self.http.trust_env = False
        self.http.verify = target.verify
        self.token: str | None = None

    def url(self, path: str) -> str:
        return urljoin(self.target.url, path.lstrip("/"))

    def hub_xsrf(self) -> str:
        """The hub's _xsrf cookie (users' servers set their own, on their own paths)."""
        hub_path = urlsplit(self.url("hub/")).path
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and hub_path.startswith(cookie.path.rstrip("/") + "/"):
                return cookie.value
        return ""

    def login(self, pw: str | None = None) -> requests.Response:
        """POST the login form as a browser does; return the final response."""
        page = self.http.get(self.url("hub/login"), timeout=TIMEOUT)
        page.raise_for_status()
        xsrf = self.hub_xsrf()
        return self.http.post(
            self.url("hub/login"),
            data={"username": self.user, "password": pw if pw is not None else password(self.user), "_xsrf": xsrf},
            timeout=TIMEOUT,
        )

    @property
    def logged_in(self) -> bool:
        return any(c.name.startswith("jupyterhub-session-id") or c.name == "jupyterhub-hub-login" for c in self.http.cookies)

    def api_token(self) -> str:
        """A token for the hub's REST API, made with the login cookie (as the hub's UI does)."""
        if self.token is None:
            r = self.http.post(
                self.url(f"hub/api/users/{self.user}/tokens"),
                json={"note": "bmjh e2e", "expires_in": 3600},
                headers={"X-XSRFToken": self.hub_xsrf()},
                timeout=TIMEOUT,
            )
            r.raise_for_status()
            self.token = r.json()["token"]
        return self.token

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        headers["Authorization"] = f"token {self.api_token()}"
        return requests.request(
            method, self.url(path), headers=headers, timeout=kw.pop("timeout", TIMEOUT), verify=self.http.verify, **kw
        )

    def user_model(self) -> dict:
        r = self.api("GET", f"hub/api/users/{self.user}")
        r.raise_for_status()
        return r.json()

    def server(self) -> dict | None:
        return self.user_model().get("servers", {}).get("")

    def spawn(self, timeout: float = 180) -> dict:
        """Start the user's default server (if not running) and wait until it is ready.

        A server that is not there is asked for, up to three times: it may go away while we
        wait (a scenario's idle culler with a short timeout stops an idle one)."""
        asked = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server()
            if server and server.get("ready"):
                return server
            if server is None:
                if asked == 3:
                    break
                r = self.http.get(self.url("hub/spawn"), timeout=TIMEOUT)
                assert r.status_code == 200, f"spawn page answered {r.status_code}"
                asked += 1
            time.sleep(0.5)
        raise AssertionError(f"{self.user}'s server was not ready within {timeout} s (asked {asked} times): {self.user_model()}")

    def stop(self, timeout: float = 60) -> None:
        self.api("DELETE", f"hub/api/users/{self.user}/server")
        deadline = time.monotonic() + timeout
        while self.server() and time.monotonic() < deadline:
            time.sleep(0.5)


def logged_in(target: Target, user: str, spawn: bool = False) -> HubSession:
    """A session of `user` that has logged in (and, with spawn, whose server is ready)."""
    session = HubSession(target, user)
    r = session.login()
    assert r.status_code == 200 and session.logged_in, f"{user} could not log in: {r.status_code} {r.url}"
    if spawn:
        session.spawn()
    return session


def wait_until(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as exc:  # the service may be restarting
            last = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout} s (last: {last!r})")


class Kernel:
    """A kernel of a user's server, started over the REST API and driven over its websocket."""

    def __init__(self, session: HubSession, kernel_name: str):
        self.session = session
        r = session.api("POST", f"user/{session.user}/api/kernels", json={"name": kernel_name}, timeout=60)
        assert r.status_code == 201, f"starting kernel {kernel_name!r}: {r.status_code} {r.text[:300]}"
        self.id = r.json()["id"]
        ws_url = session.url(f"user/{session.user}/api/kernels/{self.id}/channels").replace("http", "ws", 1)
        sslopt = {"ca_certs": session.http.verify} if isinstance(session.http.verify, str) else {}
        self.ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {session.api_token()}"], timeout=60, sslopt=sslopt
        )

    def execute(self, code: str, timeout: float = 60, until_death: bool = False) -> str:
        """Run code; return what it printed to stdout. Fails on an error reply.

        With until_death, return "died" as soon as the kernel dies or restarts (or its
        websocket closes) instead: for code that should get the kernel killed."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.session.user, "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, status, idle = [], None, False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (status and idle):
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketConnectionClosedException:
                if until_death:
                    return "died"
                raise
            state = msg.get("content", {}).get("execution_state")
            if until_death and msg["header"]["msg_type"] == "status" and state in ("restarting", "dead"):
                return "died"
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError(f"kernel error: {msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "execute_reply":
                status = msg["content"]["status"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        assert status == "ok", f"execute_reply status {status!r} (timed out: {time.monotonic() >= deadline})"
        return "".join(out)

    def shutdown(self) -> None:
        try:
            self.ws.close()
        finally:
            self.session.api("DELETE", f"user/{self.session.user}/api/kernels/{self.id}")


# What listens on a host: [address, port] of each TCP listener, from the kernel's tables.
LISTENERS = r"""
import ipaddress, json
out = []
for proto in ("tcp", "tcp6"):
    with open("/proc/net/" + proto) as f:
        for line in list(f)[1:]:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":  # LISTEN
                continue
            addr, port = local.split(":")
            raw = bytes.fromhex(addr)
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.ip_address(raw)
            ip = ip.ipv4_mapped or ip if ip.version == 6 else ip
            out.append([str(ip), int(port, 16)])
print(json.dumps(out))
"""


def beyond_loopback(listeners: list) -> set:
    """The (address, port) pairs of LISTENERS' output that are not on a loopback address."""
    import ipaddress

    return {(addr, port) for addr, port in listeners if not ipaddress.ip_address(addr).is_loopback}
