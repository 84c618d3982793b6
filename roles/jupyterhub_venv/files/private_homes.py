"""Make the home directories of the hub's users private: owner only.

    private_homes.py MODE [--dry-run] [--all] [--user NAME]... [--group NAME]...

MODE (e.g. 0700) becomes the permission bits of the home of each account named with
--user, of each member of a --group (by its member list or as its primary group), and,
with --all, of every account in the login.defs UID_MIN..UID_MAX range. A home is left
alone when it is missing, a symbolic link, not a directory, not owned by its account, or
one the system needs ("/" and the like). setuid/setgid/sticky bits are kept.

Prints each home it changed (or, with --dry-run, would change), one a line, and
changes nothing else. Run by the jupyterhub_venv role (ansible.builtin.script).

With --system-accounts instead of MODE it changes nothing and prints the accounts named
that are root or system accounts (uid 0, or below UID_MIN), as NAME:UID, one a line: an
unprivileged hub's sudo rule must not reach them (the role refuses such settings).
"""

import argparse
import grp
import os
import pwd
import stat
import sys

# The system's directories (the collection's rule, plugins/module_utils/rules.py, which this
# script, run on the host alone, cannot import; a unit test keeps the two the same) and the
# home of accounts that have none.
NEVER = {
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
    "/usr/include", "/usr/lib", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/local/lib",
    "/usr/local/share", "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/cache", "/var/lib",
    "/var/local", "/var/log", "/var/opt", "/var/spool", "/var/tmp",
} | {"/nonexistent"}


def uid_range(path="/etc/login.defs"):
    """UID_MIN and UID_MAX from login.defs (1000 and 60000 when not set)."""
    values = {"UID_MIN": 1000, "UID_MAX": 60000}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] in values and parts[1].isdigit():
                    values[parts[0]] = int(parts[1])
    except OSError:
        pass
    return values["UID_MIN"], values["UID_MAX"]


def accounts(users, groups, every, passwd, groupdb, uids):
    """The account entries (pwd structs) the options name, by name."""
    by_name = {p.pw_name: p for p in passwd}
    names = {u for u in users if u in by_name}
    for name in groups:
        group = next((g for g in groupdb if g.gr_name == name), None)
        if group is None:
            continue
        names |= {m for m in group.gr_mem if m in by_name}
        names |= {p.pw_name for p in passwd if p.pw_gid == group.gr_gid}
    if every:
        names |= {p.pw_name for p in passwd if uids[0] <= p.pw_uid <= uids[1]}
    return [by_name[n] for n in sorted(names)]


def system_accounts(entries, uids):
    """NAME:UID of the entries that are root or system accounts (uid 0 or below UID_MIN)."""
    return [f"{e.pw_name}:{e.pw_uid}" for e in entries if e.pw_uid == 0 or e.pw_uid < uids[0]]


def make_private(entries, mode, dry_run, lstat=os.lstat, chmod=os.chmod):
    """chmod each account's home to mode (special bits kept); return the homes changed."""
    changed = []
    for entry in entries:
        home = os.path.normpath(entry.pw_dir or "/")
        if home in NEVER:
            continue
        try:
            st = lstat(home)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != entry.pw_uid:
            continue
        wanted = (stat.S_IMODE(st.st_mode) & 0o7000) | mode
        if stat.S_IMODE(st.st_mode) != wanted:
            if not dry_run:
                chmod(home, wanted)
            changed.append(home)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", type=lambda v: int(v, 8), nargs="?")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--system-accounts", action="store_true")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--group", action="append", default=[])
    args = parser.parse_args(argv)
    if (args.mode is None) != args.system_accounts:
        parser.error("give MODE or --system-accounts")
    if args.mode is not None and args.mode & ~0o777:
        parser.error("MODE holds permission bits only, such as 0700 or 0750")
    uids = uid_range()
    entries = accounts(args.user, args.group, args.all, pwd.getpwall(), grp.getgrall(), uids)
    found = system_accounts(entries, uids) if args.system_accounts else make_private(entries, args.mode, args.dry_run)
    for line in found:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
