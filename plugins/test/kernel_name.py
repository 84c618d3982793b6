# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kernel_name
author: baremetal.jupyterhub maintainers
version_added: 0.2.0
short_description: Is this a valid kernel name
description:
  - >-
    True for a kernel name jupyter_client accepts, made of ASCII letters, digits, C(-), C(.) and C(_).
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Is this a valid kernel name
  ansible.builtin.assert:
    that: "'python3' is baremetal.jupyterhub.kernel_name"
"""

RETURN = r"""
_value:
  description: Whether the value follows the rule.
  type: boolean
"""

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import is_kernel_name


class TestModule:
    def tests(self):
        return {"kernel_name": is_kernel_name}
