# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""The collection's test plugins: the rules roles check, each written once (in
plugins/module_utils/rules.py, which the modules use too). Each is documented in the
<name>.yml beside this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import (
    is_account_name,
    is_base_url,
    is_kernel_name,
    is_port,
    is_positive_int,
)


class TestModule:
    def tests(self):
        return {
            "account_name": is_account_name,
            "base_url": is_base_url,
            "kernel_name": is_kernel_name,
            "port": is_port,
            "positive_int": is_positive_int,
        }
