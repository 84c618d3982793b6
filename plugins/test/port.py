# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: port
author: baremetal.jupyterhub maintainers
version_added: 0.2.0
short_description: Is this a TCP port number
description:
  - >-
    True for a port number from 1 to 65535, given as a number or as a string of digits.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Is this a TCP port number
  ansible.builtin.assert:
    that: "8000 is baremetal.jupyterhub.port"
"""

RETURN = r"""
_value:
  description: Whether the value follows the rule.
  type: boolean
"""

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import is_port


class TestModule:
    def tests(self):
        return {"port": is_port}
