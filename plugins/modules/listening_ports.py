#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: listening_ports
short_description: Tell which processes and systemd units listen on TCP ports
version_added: 0.2.0
description:
  - Reads the host's listening TCP sockets (C(/proc/net/tcp) and C(/proc/net/tcp6)) on the given ports and,
    where it may, the process that holds each one and the systemd unit that process belongs to (from
    C(/proc/PID/fd) and C(/proc/PID/cgroup)).
  - Changes nothing; for roles that must know, before they change anything, whether a port they will
    listen on is taken by something that is not theirs.
  - A process whose file descriptors cannot be read (another user's, where the module lacks
    C(CAP_SYS_PTRACE), as in a container) is not named; its socket is still listed, with its owner's uid.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  ports:
    description:
      - The TCP ports to look at.
    type: list
    elements: int
    required: true
"""

EXAMPLES = r"""
- name: Find who listens on the hub's ports
  baremetal.jupyterhub.listening_ports:
    ports: [8000, 8001, 8081]
  register: listening

- name: Stop if something other than nginx has port 80
  ansible.builtin.assert:
    that: listening.listeners | selectattr('port', '==', 80) | rejectattr('unit', '==', 'nginx.service') | list | length == 0
"""

RETURN = r"""
listeners:
  description: One entry per listening socket on one of O(ports), by port and address.
  returned: always
  type: list
  elements: dict
  sample: [{"port": 80, "address": "0.0.0.0", "uid": 0, "pid": 1234, "command": "nginx", "unit": "nginx.service"}]
  contains:
    port:
      description: The port.
      type: int
    address:
      description: The address it listens on (C(0.0.0.0) or C(::) for every address).
      type: str
    uid:
      description: The uid of the socket's owner.
      type: int
    pid:
      description: The process that holds the socket, or null where it could not be read.
      type: int
    command:
      description: That process's command name, or null.
      type: str
    unit:
      description: The systemd unit (service or scope) of that process, or null.
      type: str
"""

import ipaddress
import os
import re

from ansible.module_utils.basic import AnsibleModule

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


def main():
    module = AnsibleModule(
        argument_spec=dict(ports=dict(type="list", elements="int", required=True)),
        supports_check_mode=True,
    )
    bad = [p for p in module.params["ports"] if not 0 < p < 65536]
    if bad:
        module.fail_json(msg="ports must be port numbers from 1 to 65535, got %s" % bad)
    module.exit_json(changed=False, listeners=listeners(module.params["ports"]))


if __name__ == "__main__":
    main()
