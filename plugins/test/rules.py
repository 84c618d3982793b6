# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""The collection's test plugins: the rules roles check, each written once (in
plugins/module_utils/rules.py, which the modules use too). Each is documented in the
<name>.yml beside this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import (
    are_packages_installed,
    are_python_requirements_met,
    is_absolute_path,
    is_account_name,
    is_base_url,
    is_http_url,
    is_ip_address,
    is_kernel_name,
    is_octal_mode,
    is_port,
    is_port_range,
    is_positive_int,
    is_slurm_partition,
    is_system_directory,
)


class TestModule:
    def tests(self):
        return {
            "absolute_path": is_absolute_path,
            "account_name": is_account_name,
            "base_url": is_base_url,
            "http_url": is_http_url,
            "ip_address": is_ip_address,
            "kernel_name": is_kernel_name,
            "octal_mode": is_octal_mode,
            "packages_installed": are_packages_installed,
            "port": is_port,
            "port_range": is_port_range,
            "positive_int": is_positive_int,
            "python_requirements_met": are_python_requirements_met,
            "slurm_partition": is_slurm_partition,
            "system_directory": is_system_directory,
        }
