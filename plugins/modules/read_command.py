#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: read_command
short_description: Run a command that only reads the host's state, in one round trip
version_added: 0.3.0
description:
  - Runs one command on the host and returns its output, as M(ansible.builtin.command) does, for commands that
    only read, such as which packages, users or units there are, or what a file or a venv holds.
  - The action plugin runs it through the connection directly, as M(ansible.builtin.raw) does, without a
    module's start-up (the host's Python unpacking and importing Ansible's module code first), which costs
    about 0.2 s a task. With become it runs as the become user.
  - It never reports a change, and it runs in check mode too, as what it reads decides what the other
    tasks do. Do not use it for a command that changes anything.
  - Fails when the command exits with a non-zero code, as M(ansible.builtin.command) does; use C(failed_when)
    to decide otherwise.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The command runs in check mode as well; it must only read.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  argv:
    description:
      - The command and its arguments, each quoted for the shell. Exactly one of O(argv) and O(cmd).
    type: list
    elements: str
  cmd:
    description:
      - A command line run by the shell (O(executable)), with its pipes and tests. Exactly one of O(argv) and
        O(cmd).
    type: str
  executable:
    description:
      - The shell that runs O(cmd), such as C(/bin/bash) for C(set -o pipefail).
    type: path
    default: /bin/sh
  stdin:
    description:
      - Text the command reads on its standard input, such as a script for C(python3 -).
      - Without it, the command reads an empty line.
    type: str
notes:
  - The task's C(environment) is set for the command.
seealso:
  - module: ansible.builtin.command
  - module: ansible.builtin.raw
"""

EXAMPLES = r"""
- name: Read the host's users and groups
  baremetal.jupyterhub.read_command:
    argv: [getent, passwd]
  register: passwd

- name: Find whether the certificate is there
  baremetal.jupyterhub.read_command:
    cmd: test -e /etc/ssl/hub.pem && echo present || echo missing
  register: cert
"""

RETURN = r"""
rc:
  description: The command's exit code.
  returned: always
  type: int
  sample: 0
stdout:
  description: What it wrote to standard output, without the final newline.
  returned: always
  type: str
stdout_lines:
  description: RV(stdout) line by line.
  returned: always
  type: list
  elements: str
stderr:
  description: What it wrote to standard error.
  returned: always
  type: str
stderr_lines:
  description: RV(stderr) line by line.
  returned: always
  type: list
  elements: str
cmd:
  description: The command, as given.
  returned: always
  type: raw
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    # Run as a module (without the action plugin) it does the same, with a module's cost.
    module = AnsibleModule(
        argument_spec={"argv": {"type": "list", "elements": "str"}, "cmd": {"type": "str"},
                       "executable": {"type": "path", "default": "/bin/sh"}, "stdin": {"type": "str"}},
        required_one_of=[("argv", "cmd")],
        mutually_exclusive=[("argv", "cmd")],
        supports_check_mode=True,
    )
    args = module.params["argv"] or [module.params["executable"], "-c", module.params["cmd"]]
    rc, out, err = module.run_command(args, data=module.params["stdin"] or "\n", binary_data=bool(module.params["stdin"]))
    out, err = out.rstrip("\r\n"), err.rstrip("\r\n")
    result = {"changed": False, "cmd": module.params["argv"] or module.params["cmd"], "rc": rc, "stdout": out,
              "stderr": err, "stdout_lines": out.splitlines(), "stderr_lines": err.splitlines()}
    if rc != 0:
        module.fail_json(msg="non-zero return code", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
