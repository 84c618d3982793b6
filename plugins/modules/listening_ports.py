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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.listening import bad_ports, listeners


def main():
    module = AnsibleModule(
        argument_spec=dict(ports=dict(type="list", elements="int", required=True)),
        supports_check_mode=True,
    )
    bad = bad_ports(module.params["ports"])
    if bad:
        module.fail_json(msg="ports must be port numbers from 1 to 65535, got %s" % bad)
    module.exit_json(changed=False, listeners=listeners(module.params["ports"]))


if __name__ == "__main__":
    main()
