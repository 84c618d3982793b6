# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: account_name
author: baremetal.jupyterhub maintainers
version_added: 0.2.0
short_description: Is this a user or group name JupyterHub can log in
description:
  - >-
    True for a system user or group name as Debian's adduser accepts it, in lower case
    (JupyterHub lower-cases names at login, so upper case could never log in), that is a letter
    or C(_), then up to 31 letters, digits or C(_ . -).
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Is this a user or group name JupyterHub can log in
  ansible.builtin.assert:
    that: "'alice' is baremetal.jupyterhub.account_name"
"""

RETURN = r"""
_value:
  description: Whether the value follows the rule.
  type: boolean
"""

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import is_account_name


class TestModule:
    def tests(self):
        return {"account_name": is_account_name}
