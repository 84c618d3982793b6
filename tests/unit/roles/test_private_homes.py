"""roles/jupyterhub_venv/files/private_homes.py: whose homes it makes private, and how."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import pathlib
import stat
import types

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "roles" / "jupyterhub_venv" / "files" / "private_homes.py"
spec = importlib.util.spec_from_file_location("private_homes", SCRIPT)
private_homes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(private_homes)


def account(name, uid, gid, home):
    """What pwd.getpwall() gives for an account (the attributes the script reads)."""
    return types.SimpleNamespace(pw_name=name, pw_uid=uid, pw_gid=gid, pw_dir=home)


def group(name, gid, members=()):
    """What grp.getgrall() gives for a group."""
    return types.SimpleNamespace(gr_name=name, gr_gid=gid, gr_mem=list(members))


PASSWD = [
    account("root", 0, 0, "/root"),
    account("alice", 1001, 1001, "/home/alice"),
    account("bob", 1002, 1002, "/home/bob"),
    account("carol", 1003, 100, "/home/carol"),  # primary group "users"
    account("svc", 998, 998, "/var/lib/svc"),
    account("nobody", 65534, 65534, "/nonexistent"),
]
GROUPS = [group("users", 100), group("research", 2000, ["bob"]), group("alice", 1001)]


@pytest.mark.parametrize("users, groups, every, expected", [
    (["alice"], [], False, ["alice"]),
    (["alice", "nosuchuser"], [], False, ["alice"]),
    ([], ["research"], False, ["bob"]),  # a member by the group's list
    ([], ["users"], False, ["carol"]),  # a member by her primary group
    ([], ["nosuchgroup"], False, []),
    ([], [], True, ["alice", "bob", "carol"]),  # UID_MIN..UID_MAX: not root, svc or nobody
    (["alice"], ["research"], False, ["alice", "bob"]),
])
def test_accounts(users, groups, every, expected):
    assert [e.pw_name for e in private_homes.accounts(users, groups, every, PASSWD, GROUPS, (1000, 60000))] == expected


def test_uid_range_reads_login_defs(tmp_path):
    defs = tmp_path / "login.defs"
    defs.write_text("# comment\nUID_MIN\t\t 2000\nUID_MAX 3000\nGID_MIN 500\n")
    assert private_homes.uid_range(str(defs)) == (2000, 3000)
    assert private_homes.uid_range(str(tmp_path / "missing")) == (1000, 60000)


class FakeStat:
    def __init__(self, mode, uid):
        self.st_mode, self.st_uid = mode, uid


def run(homes, mode=0o700, dry_run=False, entries=None):
    """make_private over fake homes {path: (st_mode, uid)}; returns (changed, chmod calls)."""
    calls = []

    def lstat(path):
        if path not in homes:
            raise FileNotFoundError(path)
        return FakeStat(*homes[path])

    changed = private_homes.make_private(entries or PASSWD, mode, dry_run, lstat=lstat, chmod=lambda p, m: calls.append((p, m)))
    return changed, calls


def test_open_homes_are_closed_and_private_ones_left_alone():
    homes = {
        "/home/alice": (stat.S_IFDIR | 0o755, 1001),
        "/home/bob": (stat.S_IFDIR | 0o700, 1002),
        "/home/carol": (stat.S_IFDIR | stat.S_ISGID | 0o750, 1003),
    }
    changed, calls = run(homes)
    assert changed == ["/home/alice", "/home/carol"]
    assert calls == [("/home/alice", 0o700), ("/home/carol", stat.S_ISGID | 0o700)]  # setgid kept


def test_dry_run_says_what_it_would_change_and_changes_nothing():
    changed, calls = run({"/home/alice": (stat.S_IFDIR | 0o755, 1001)}, dry_run=True)
    assert changed == ["/home/alice"] and calls == []


@pytest.mark.parametrize("home, st", [
    ("/home/alice", None),  # missing
    ("/home/alice", (stat.S_IFLNK | 0o777, 1001)),  # a link: never followed
    ("/home/alice", (stat.S_IFREG | 0o644, 1001)),  # not a directory
    ("/home/alice", (stat.S_IFDIR | 0o755, 0)),  # not the account's own
])
def test_homes_that_are_not_the_accounts_own_directory_are_left_alone(home, st):
    changed, calls = run({} if st is None else {home: st}, entries=[PASSWD[1]])
    assert changed == [] and calls == []


@pytest.mark.parametrize("home", ["/", "/root", "/home", "/home/", "/var", "/nonexistent", "/tmp"])
def test_system_directories_are_never_changed(home):
    entry = account("odd", 1001, 1001, home)
    changed, calls = run({os.path.normpath(home): (stat.S_IFDIR | 0o755, 1001)}, entries=[entry])
    assert changed == [] and calls == []


def test_a_mode_with_more_than_permission_bits_is_refused(capsys):
    with pytest.raises(SystemExit):
        private_homes.main(["4700"])
    assert "permission bits only" in capsys.readouterr().err


def test_never_touches_a_system_directory():
    """The script's own list is the collection's system-directory rule, plus /nonexistent."""
    from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import SYSTEM_DIRECTORIES

    assert private_homes.NEVER == SYSTEM_DIRECTORIES | {"/nonexistent"}


@pytest.mark.parametrize("users, groups, expected", [
    (["alice", "bob"], [], []),
    (["alice", "svc"], [], ["svc:998"]),  # a system account named
    (["root"], [], ["root:0"]),
    ([], ["users"], []),  # carol: a person
    ([], ["ops"], ["root:0", "svc:998"]),  # members of a group named, by its list
])
def test_system_accounts_among_the_hubs_users_are_found(users, groups, expected):
    groupdb = GROUPS + [group("ops", 3000, ["root", "svc", "bob"])]
    entries = private_homes.accounts(users, groups, False, PASSWD, groupdb, (1000, 60000))
    assert private_homes.system_accounts(entries, (1000, 60000)) == expected


def test_system_accounts_are_read_without_a_mode_and_nothing_is_changed(capsys):
    assert private_homes.main(["--system-accounts", "--user=root", "--user=nosuchuser"]) == 0
    assert capsys.readouterr().out == "root:0\n"
    with pytest.raises(SystemExit):
        private_homes.main(["0700", "--system-accounts"])
    with pytest.raises(SystemExit):
        private_homes.main([])
