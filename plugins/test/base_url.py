# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: base_url
author: baremetal.jupyterhub maintainers
version_added: 0.2.0
short_description: Is this a base URL the hub can serve under
description:
  - >-
    True for C(/) and for paths such as C(/jupyter/) or C(/a/b/), which start and end with C(/)
    and hold only letters, digits and C(. _ ~ -) between.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Is this a base URL the hub can serve under
  ansible.builtin.assert:
    that: "'/jupyter/' is baremetal.jupyterhub.base_url"
"""

RETURN = r"""
_value:
  description: Whether the value follows the rule.
  type: boolean
"""

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import is_base_url


class TestModule:
    def tests(self):
        return {"base_url": is_base_url}
