#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: systemd_unit
short_description: Start, stop, enable or disable a systemd unit, asking systemd first
version_added: 0.3.0
description:
  - M(ansible.builtin.systemd_service) with one quick read first. The action plugin asks systemd for the unit's
    C(LoadState), C(ActiveState) and C(UnitFileState) in one command through the connection (about 0.05 s);
    when the unit already is as asked, the task ends there, unchanged. Otherwise
    M(ansible.builtin.systemd_service) runs with the same arguments (about 0.3 s) and decides, with its own
    check mode.
  - The read understands O(name), O(state) (V(started), V(stopped)) and O(enabled). A unit that is not
    loaded, C(state=restarted) or C(state=reloaded), a unit file state other than C(enabled) or C(disabled),
    and any other argument of M(ansible.builtin.systemd_service) always go to that module.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The read changes nothing; M(ansible.builtin.systemd_service) runs in check mode when it runs.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description: The unit, as M(ansible.builtin.systemd_service) takes it.
    type: str
    required: true
  state:
    description: As in M(ansible.builtin.systemd_service).
    type: str
    choices: [started, stopped, restarted, reloaded]
  enabled:
    description: As in M(ansible.builtin.systemd_service).
    type: bool
  daemon_reload:
    description: As in M(ansible.builtin.systemd_service); when true the module always runs.
    type: bool
    default: false
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Start nginx and enable it at boot
  baremetal.jupyterhub.systemd_unit:
    name: nginx
    state: started
    enabled: true
"""

RETURN = r"""
ran:
  description: Whether M(ansible.builtin.systemd_service) ran (it returns its own values then).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    # The action plugin does the work; run as a module, this only says so.
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["started", "stopped", "restarted", "reloaded"]},
            "enabled": {"type": "bool"},
            "daemon_reload": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    module.fail_json(msg="baremetal.jupyterhub.systemd_unit runs through its action plugin")


if __name__ == "__main__":
    main()
