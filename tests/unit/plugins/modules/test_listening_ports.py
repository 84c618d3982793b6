"""listening_ports: recorded /proc/net/tcp{,6} lines (tests/unit/fixtures/proc) in a fake /proc
with process directories whose fd links, comm and cgroup are made here."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.modules import listening_ports as lp
from modrun import run_module

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "proc"


def fake_proc(tmp_path):
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net" / "tcp").write_text((FIXTURES / "net-tcp").read_text())
    (proc / "net" / "tcp6").write_text((FIXTURES / "net-tcp6").read_text())

    def process(pid, comm, cgroup, *inodes):
        d = proc / str(pid)
        (d / "fd").mkdir(parents=True)
        (d / "comm").write_text(comm + "\n")
        (d / "cgroup").write_text(cgroup)
        (d / "fd" / "0").symlink_to("/dev/null")
        for n, inode in enumerate(inodes, 3):
            (d / "fd" / str(n)).symlink_to(f"socket:[{inode}]")

    # cgroup v1 (hybrid: the name=systemd line) and v2 (the 0:: line), as the hosts here have them.
    process(101, "python3", "12:perf_event:/\n1:name=systemd:/system.slice/squatter.service\n0::/system.slice/squatter.service\n", 71967)
    process(102, "python3", "0::/user.slice/user-0.slice/session-3.scope\n", 71970)
    (proc / "self").mkdir()
    return proc


def test_listeners_with_their_process_and_unit(tmp_path):
    found = lp.listeners([8765, 8766, 80], proc=str(fake_proc(tmp_path)))
    assert found == [
        # uid 33's process could not be read: listed without a holder.
        {"port": 80, "address": "0.0.0.0", "uid": 33, "pid": None, "command": None, "unit": None},
        {"port": 8765, "address": "127.0.0.1", "uid": 0, "pid": 101, "command": "python3", "unit": "squatter.service"},
        {"port": 8766, "address": "::1", "uid": 0, "pid": 102, "command": "python3", "unit": "session-3.scope"},
    ]


def test_other_ports_and_established_connections_are_left_out(tmp_path):
    assert lp.listeners([8000, 8001], proc=str(fake_proc(tmp_path))) == []


def test_the_module_reads_and_changes_nothing():
    result = run_module(lp, {"ports": [1]}, check_mode=True)
    assert not result["failed"] and not result["changed"] and isinstance(result["listeners"], list)


@pytest.mark.parametrize("ports", [[0], [70000]])
def test_refuses_what_is_not_a_port(ports):
    result = run_module(lp, {"ports": ports})
    assert result["failed"] and "from 1 to 65535" in result["msg"]
