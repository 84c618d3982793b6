"""Day 2 features, with the role_import scenario's settings: admins by group, no sudo
from a hub session, per-user limits (each server its own systemd unit), the idle
culler, and a shared folder for a group.
"""

import threading
import time

import pytest

from hub import Kernel, logged_in, wait_until

pytestmark = pytest.mark.day2_features
MEMORY_MAX = 256 * 1024 * 1024


def test_admin_group_member_opens_the_admin_panel(target):
    carol = logged_in(target, "carol")  # admin only through the hubadmins group
    assert carol.user_model()["admin"] is True
    assert carol.http.get(carol.url("hub/admin"), timeout=30).status_code == 200
    alice = logged_in(target, "alice")
    assert alice.http.get(alice.url("hub/admin"), timeout=30).status_code == 403


def test_nobody_gets_sudo_from_a_hub_session(target):
    # carol may sudo on the host (prepare gives her the right), but not from her server.
    assert target.exec("runuser", "-u", "carol", "--", "sudo", "-n", "true", check=False).returncode == 0
    for user in ("alice", "carol"):
        s = logged_in(target, user, spawn=True)
        kernel = Kernel(s, "python3")
        try:
            out = kernel.execute("import subprocess; print(subprocess.run(['sudo', '-n', 'true'], capture_output=True).returncode)")
            assert out.strip() not in ("", "0"), f"{user} could use sudo from the hub"
        finally:
            kernel.shutdown()


def test_each_server_is_a_unit_with_the_users_limits(target):
    alice, bob = logged_in(target, "alice", spawn=True), logged_in(target, "bob", spawn=True)
    unit = "jupyter-alice-singleuser.service"
    props = dict(line.split("=", 1) for line in target.exec(
        "systemctl", "show", "-p", "ActiveState,MemoryMax,CPUQuotaPerSecUSec,User", unit).stdout.splitlines())
    # systemdspawner writes the uid into User=
    uid = target.exec("id", "-u", "alice").stdout.strip()
    assert props == {"ActiveState": "active", "MemoryMax": str(MEMORY_MAX), "CPUQuotaPerSecUSec": "500ms", "User": uid}, props
    hog, other = Kernel(alice, "python3"), Kernel(bob, "python3")
    try:
        # Past the memory limit the kernel is killed; the hub and other users go on.
        assert hog.execute("x = bytearray(400 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); print('survived')",
                           timeout=90, until_death=True) == "died"
        assert alice.http.get(alice.url("hub/api/"), timeout=10).status_code == 200
        assert target.exec("systemctl", "is-active", "jupyterhub.service").stdout.strip() == "active"
        assert other.execute("print(2 * 21)").strip() == "42"
    finally:
        hog.ws.close()
        other.shutdown()


def test_idle_servers_are_culled_and_active_ones_are_not(targets):
    """On every host at once (the wait is the same): alice stays idle, bob keeps a kernel busy."""
    idle = {t.container: logged_in(t, "alice", spawn=True) for t in targets}
    active = {t.container: logged_in(t, "bob", spawn=True) for t in targets}
    kernels = [Kernel(s, "python3") for s in active.values()]
    done = threading.Event()

    def keep_busy(kernel):
        while not done.is_set():
            kernel.execute("print('working')")
            done.wait(5)

    workers = [threading.Thread(target=keep_busy, args=(k,), daemon=True) for k in kernels]
    for worker in workers:
        worker.start()
    start = time.monotonic()
    try:
        # Timeout 60 s, checks every 10 s, activity reported every 10 s: the idle servers
        # go within about 90 s.
        wait_until(lambda: all(s.server() is None for s in idle.values()), 180, interval=3,
                   what="the idle servers culled")
        print(f"idle servers culled after {time.monotonic() - start:.0f} s")
        for name, session in active.items():
            server = session.server()
            assert server and server["ready"], f"bob's active server on {name} was culled"
    finally:
        done.set()
        for worker in workers:
            worker.join(30)
        for kernel in kernels:
            kernel.shutdown()


def test_the_group_shares_a_folder(target):
    assert target.exec("stat", "-c", "%a %U %G", "/srv/jupyter-shared").stdout.split() == ["2770", "root", "research"]
    for user in ("alice", "bob"):
        assert target.exec("readlink", f"/home/{user}/shared").stdout.strip() == "/srv/jupyter-shared"
    # alice writes with a closed umask; bob (same group) can still change it; mallory cannot read it.
    target.exec("runuser", "-u", "alice", "--", "sh", "-c", "umask 077; echo from-alice > ~/shared/notes.txt")
    target.exec("runuser", "-u", "bob", "--", "sh", "-c", "echo from-bob >> ~/shared/notes.txt")
    assert target.exec("cat", "/srv/jupyter-shared/notes.txt").stdout.split() == ["from-alice", "from-bob"]
    assert target.exec("stat", "-c", "%G", "/srv/jupyter-shared/notes.txt").stdout.strip() == "research"
    assert target.exec("runuser", "-u", "mallory", "--", "cat", "/srv/jupyter-shared/notes.txt", check=False).returncode != 0
    target.exec("rm", "-f", "/srv/jupyter-shared/notes.txt")
