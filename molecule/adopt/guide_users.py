"""The hand-made hub in use, before the site playbook takes the host over
(molecule/adopt/prepare.yml runs this as root with the hub's venv python, which has requests).

Through nginx, as the guide's users reach the hub (http://127.0.0.1/jupyter/):
- alice logs in and starts her server, which is left running;
- bob logs in and makes an API token, as the hub's token page does.

Then it records what the takeover must keep in /root/adopt-before.json (0600): bob's
token, the sha256 of the hub's database and cookie secret (the guide's unit has no
WorkingDirectory, so the hub keeps them in /) and the PID of alice's server.
Anything not as expected stops it with a message and a non-zero exit.
"""

import hashlib
import json
import os
import pwd
import sys
import time
from urllib.parse import urljoin, urlsplit

import requests

BASE = "http://127.0.0.1/jupyter/"
DB, COOKIE_SECRET = "/jupyterhub.sqlite", "/jupyterhub_cookie_secret"
RECORD = "/root/adopt-before.json"
TIMEOUT = 30
SPAWN_TIMEOUT = 300  # a first JupyterLab start on a busy 2-core machine


def fail(message: str) -> None:
    sys.exit(f"guide_users.py: {message}")


class User:
    """One user's browser-like session with the hub."""

    def __init__(self, name: str):
        self.name = name
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: no proxy

    def url(self, path: str) -> str:
        return urljoin(BASE, path)

    def xsrf(self) -> str:
        """The hub's _xsrf cookie (the login answer sets the one for the logged-in session)."""
        hub_path = urlsplit(self.url("hub/")).path
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and hub_path.startswith(cookie.path.rstrip("/") + "/"):
                return cookie.value
        return ""

    def login(self) -> None:
        page = self.http.get(self.url("hub/login"), timeout=TIMEOUT)
        if page.status_code != 200:
            fail(f"GET {page.url}: {page.status_code} {page.text[:300]!r}")
        if not self.xsrf():
            fail(f"the login page set no _xsrf cookie; cookies: {sorted(c.name for c in self.http.cookies)}")
        # Not following the redirect: it goes to hub/spawn, which would start a server.
        r = self.http.post(
            self.url("hub/login"),
            data={"username": self.name, "password": f"{self.name}-pw", "_xsrf": self.xsrf()},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        cookies = sorted(c.name for c in self.http.cookies)
        if r.status_code != 302 or "jupyterhub-hub-login" not in cookies:
            fail(f"{self.name} could not log in: {r.status_code}, cookies {cookies}, {r.text[:300]!r}")
        print(f"{self.name} logged in")

    def api(self, method: str, path: str, **kw) -> requests.Response:
        """The hub's REST API with the login cookie, as the hub's own pages call it: JupyterHub
        4.1+ wants the _xsrf cookie's value in X-XSRFToken on such requests."""
        headers = {"X-XSRFToken": self.xsrf(), **kw.pop("headers", {})}
        return self.http.request(method, self.url("hub/api/" + path), headers=headers, timeout=TIMEOUT, **kw)

    def model(self) -> dict:
        r = self.api("GET", f"users/{self.name}")
        if r.status_code != 200:
            fail(f"GET hub/api/users/{self.name}: {r.status_code} {r.text[:300]!r}")
        return r.json()


def start_server(user: User) -> None:
    r = user.api("POST", f"users/{user.name}/server")
    if r.status_code not in (201, 202):
        fail(f"starting {user.name}'s server: {r.status_code} {r.text[:300]!r}")
    started, seen = time.monotonic(), False
    while time.monotonic() < started + SPAWN_TIMEOUT:
        server = user.model().get("servers", {}).get("")
        if server and server.get("ready"):
            print(f"{user.name}'s server is ready at {server.get('url')}")
            return
        if server is None and (seen or time.monotonic() > started + 30):
            fail(f"{user.name}'s server is not there (it failed to start? see the hub's journal): {user.model()}")
        seen = seen or server is not None
        time.sleep(1)
    fail(f"{user.name}'s server was not ready within {SPAWN_TIMEOUT} s: {user.model()}")


def make_token(user: User) -> str:
    r = user.api("POST", f"users/{user.name}/tokens", json={"note": "made by hand", "expires_in": None})
    if r.status_code != 201 or not r.json().get("token"):
        fail(f"{user.name}'s token: {r.status_code} {r.text[:300]!r}")
    token = r.json()["token"]
    # It works on its own, without the login cookie.
    plain = requests.Session()
    plain.trust_env = False
    check = plain.get(urljoin(BASE, "hub/api/user"), headers={"Authorization": f"token {token}"}, timeout=TIMEOUT)
    if check.status_code != 200 or check.json().get("name") != user.name:
        fail(f"GET hub/api/user with {user.name}'s new token: {check.status_code} {check.text[:300]!r}")
    print(f"{user.name} made an API token")
    return token


def pids_of(user: str, pattern: str) -> list[int]:
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in cmdline:
            found.append(int(pid))
    return sorted(found)


def sha256(path: str) -> str:
    if not os.path.isfile(path):
        fail(f"{path} is not there: the guide's hub (its unit has no WorkingDirectory) keeps it in /")
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> None:
    alice = User("alice")
    alice.login()
    start_server(alice)
    servers = pids_of("alice", "jupyterhub-singleuser")
    if not servers:
        fail("alice's server is ready, but no jupyterhub-singleuser process runs as alice")

    bob = User("bob")
    bob.login()
    token = make_token(bob)

    # alice's server is still there after bob's visit.
    server = alice.model().get("servers", {}).get("")
    if not (server and server.get("ready")):
        fail(f"alice's server is no longer ready: {alice.model()}")

    record = {
        "bob_token": token,
        "db_sha256": sha256(DB),
        "cookie_secret_sha256": sha256(COOKIE_SECRET),
        "alice_server_pid": servers[0],
    }
    fd = os.open(RECORD, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"recorded in {RECORD}: " + ", ".join(k for k in sorted(record)))


if __name__ == "__main__":
    main()
