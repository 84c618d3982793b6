# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""Which processes and systemd units listen on TCP ports (module baremetal.jupyterhub.listening_ports).

Standard library only: the module imports it, and its action plugin sends this file's source
to the host's Python as one command, without a module's start-up cost.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re
import sys

LISTEN = "0A"


def hex_address(text):
    """'0100007F' -> '127.0.0.1'; 32 hex digits (four words in host order, as the kernel
    writes them) -> an IPv6 address such as '::1'."""
    raw = bytes.fromhex(text)
    return str(ipaddress.ip_address(b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))))


def sockets(proc, ports):
    """{inode: {port, address, uid}} of the listening sockets on ports."""
    found = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", name)) as f:
                lines = f.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            address, port = fields[1].split(":")
            port = int(port, 16)
            if port in ports:
                found[fields[9]] = {"port": port, "address": hex_address(address), "uid": int(fields[7])}
    return found


def unit_of(cgroup_text):
    """The systemd unit (service or scope) a process's /proc/PID/cgroup names, or None."""
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[1] in ("", "name=systemd"):
            units = [p for p in parts[2].split("/") if re.search(r"\.(service|scope)$", p)]
            if units:
                return units[-1]
    return None


def holders(proc, inodes):
    """{inode: (pid, command, unit)} for the sockets whose holder can be read."""
    wanted = dict(("socket:[%s]" % inode, inode) for inode in inodes)
    found = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except (IOError, OSError):
            continue
        for fd in fds:
            try:
                inode = wanted.get(os.readlink(os.path.join(fd_dir, fd)))
            except (IOError, OSError):
                continue
            if inode and inode not in found:
                try:
                    with open(os.path.join(proc, pid, "comm")) as f:
                        command = f.read().strip()
                    with open(os.path.join(proc, pid, "cgroup")) as f:
                        unit = unit_of(f.read())
                except (IOError, OSError):
                    command, unit = None, None
                found[inode] = (int(pid), command, unit)
    return found


def listeners(ports, proc="/proc"):
    found = sockets(proc, set(ports))
    held = holders(proc, list(found))
    out = []
    for inode, sock in sorted(found.items(), key=lambda item: (item[1]["port"], item[1]["address"])):
        pid, command, unit = held.get(inode, (None, None, None))
        out.append(dict(sock, pid=pid, command=command, unit=unit))
    return out


def bad_ports(ports):
    """The entries of ports that are not port numbers."""
    return [p for p in ports if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 65536]


def main(argv):
    """``python3 - '{"ports": [80, 443]}'``: print {"listeners": [...]} as JSON."""
    try:
        ports = json.loads(argv[1])["ports"]
    except (ValueError, IndexError, KeyError, TypeError) as err:
        sys.stdout.write(json.dumps({"failed": True, "msg": "bad arguments: %s" % err}) + "\n")
        return
    bad = bad_ports(ports)
    if bad:
        sys.stdout.write(json.dumps({"failed": True, "msg": "ports must be port numbers from 1 to 65535, got %s" % bad}) + "\n")
        return
    sys.stdout.write(json.dumps({"changed": False, "listeners": listeners(ports)}) + "\n")


if __name__ == "__main__":
    main(sys.argv)
