# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""Whether the steps of baremetal.jupyterhub.files are already as described on this host.

Standard library only: the module imports it, and the action plugin sends this file's source
to the host's Python as one command (``python3 -c``), without a module's start-up cost, then
hands only the steps that are not current to the builtin modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import hashlib
import json
import os
import pwd
import re
import stat
import sys

# The arguments the check understands, per builtin module. A step with any other argument is
# handed to the builtin module, which decides (the check never says "already right" for it).
UNDERSTOOD = {
    "template": {"src", "dest", "owner", "group", "mode", "backup", "validate", "force"},
    "copy": {"src", "content", "dest", "owner", "group", "mode", "backup", "validate", "force"},
    "file": {"path", "dest", "name", "state", "src", "owner", "group", "mode", "force", "access_time", "modification_time"},
}
OCTAL_MODE = re.compile(r"^0?[0-7]{3,4}$")


def step_kind(step):
    """The builtin module a step names ('template', 'copy' or 'file'); ValueError unless exactly one."""
    kinds = [kind for kind in sorted(UNDERSTOOD) if step.get(kind) is not None]
    if len(kinds) != 1:
        raise ValueError("each step needs exactly one of copy, file or template; this one has %s"
                         % (", ".join(kinds) or "none"))
    return kinds[0]


def step_path(kind, args):
    """The file a step is about."""
    if kind == "file":
        return args.get("path") or args.get("dest") or args.get("name")
    return args.get("dest")


def _uid(owner):
    text = str(owner)
    return int(text) if text.isdigit() else pwd.getpwnam(text).pw_uid


def _gid(group):
    text = str(group)
    return int(text) if text.isdigit() else grp.getgrnam(text).gr_gid


def sha1_of(path):
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        block = handle.read(1 << 16)
        while block:
            digest.update(block)
            block = handle.read(1 << 16)
    return digest.hexdigest()


def _owned_right(info, args):
    """None when owner, group and mode are as asked, else what differs."""
    try:
        if args.get("owner") is not None and info.st_uid != _uid(args["owner"]):
            return "owner"
        if args.get("group") is not None and info.st_gid != _gid(args["group"]):
            return "group"
    except KeyError:
        return "no such user or group"
    mode = args.get("mode")
    if mode is not None:
        text = str(mode)
        if isinstance(mode, int) or not OCTAL_MODE.match(text):
            # An int is how YAML reads 0644 unquoted (decimal 420): the builtin module decides.
            return "mode not given as an octal string"
        if stat.S_IMODE(info.st_mode) != int(text, 8):
            return "mode"
    return None


def _file_state(args, info, path):
    state = args.get("state")
    times = (args.get("access_time"), args.get("modification_time"))
    if any(time not in (None, "preserve") for time in times):
        return "times are set"
    if state == "touch":
        # Only a touch that keeps both times is a no-op on a file that is there.
        if times != ("preserve", "preserve"):
            return "touch changes the file's times"
        state = "file"
    if state == "absent":
        return "present"
    if state == "link":
        if not stat.S_ISLNK(info.st_mode):
            return "not a link"
        if args.get("mode") is not None:
            return "mode on a link"
        if os.readlink(path) != args.get("src"):
            return "link target"
        return _owned_right(info, args)
    if state == "directory":
        return _owned_right(info, args) if stat.S_ISDIR(info.st_mode) else "not a directory"
    if state == "file":
        return _owned_right(info, args) if stat.S_ISREG(info.st_mode) else "not a regular file"
    return "state %s" % state


def why_not_current(kind, args, checksum=None):
    """None when a step would change nothing, else a short reason (the step then runs)."""
    unknown = set(args) - UNDERSTOOD[kind]
    if unknown:
        return "arguments the check does not read: %s" % ", ".join(sorted(unknown))
    path = step_path(kind, args)
    if not path or not os.path.isabs(path):
        return "no absolute path"
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None if kind == "file" and args.get("state") == "absent" else "missing"
    except OSError as err:
        return "cannot be read: %s" % err.strerror
    if kind == "file":
        return _file_state(args, info, path)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if args.get("force") is not False:
        if checksum is None:
            return "content not known"
        if sha1_of(path) != checksum:
            return "content"
    return _owned_right(info, args)


def check_steps(steps):
    """One entry per enabled step: its path, module, whether it is current and why not."""
    results = []
    for step in steps:
        if step.get("enabled", True) is False:
            continue
        kind = step_kind(step)
        args = step[kind]
        reason = why_not_current(kind, args, step.get("checksum"))
        results.append({"path": step_path(kind, args), "module": kind, "current": reason is None, "why": reason})
    return results


def main(argv):
    """``python3 -c "<this file>" STEPS_JSON``: print the check's results as JSON."""
    try:
        sys.stdout.write(json.dumps({"results": check_steps(json.loads(argv[1]))}) + "\n")
    except (ValueError, IndexError) as err:
        sys.stdout.write(json.dumps({"failed": True, "msg": str(err)}) + "\n")


if __name__ == "__main__":
    main(sys.argv)
