# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause
"""Action for baremetal.jupyterhub.systemd_unit: ansible.builtin.systemd_service, asked first.

One command through the connection (about 0.05 s) reads the unit's state; when it is already
what the task asks, the task ends there. Otherwise, or for any argument this check does not
read, ansible.builtin.systemd_service runs with the same arguments and decides.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.jupyterhub.plugins.plugin_utils.quick import run_quick

# ansible.builtin.systemd_service counts a unit as running in these states.
RUNNING = ("active", "activating")
UNDERSTOOD = {"name", "state", "enabled"}


def unit_properties(text):
    """`systemctl show --property=...` output as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def why_not_current(args, props):
    """None when the unit is as the arguments ask, else a short reason (the module then runs)."""
    unknown = {key for key, value in args.items() if value is not None} - UNDERSTOOD
    if unknown:
        return "arguments the check does not read: %s" % ", ".join(sorted(unknown))
    if props.get("LoadState") != "loaded":
        return "not loaded"
    state, enabled = args.get("state"), args.get("enabled")
    if state == "started" and props.get("ActiveState") not in RUNNING:
        return "not running"
    if state == "stopped" and props.get("ActiveState") in RUNNING:
        return "running"
    if state not in (None, "started", "stopped"):
        return "state %s always acts" % state
    if enabled is not None:
        wanted = "enabled" if _truthy(enabled) else "disabled"
        if props.get("UnitFileState") != wanted:
            return "unit file state %s" % props.get("UnitFileState")
    return None


def _truthy(value):
    return value is True or str(value).lower() in ("true", "yes", "on", "1")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        name = args.get("name")
        reason = "no name"
        if name:
            command = "systemctl show --property=LoadState,ActiveState,UnitFileState -- %s" % shlex.quote(str(name))
            rc, stdout, dummy = run_quick(self, command)
            reason = why_not_current(args, unit_properties(stdout)) if rc == 0 else "unknown"
        if reason is None:
            result.update(changed=False, name=name, state=args.get("state"), enabled=args.get("enabled"), ran=False)
            return result
        result.update(self._execute_module(module_name="ansible.legacy.systemd_service", module_args=args, task_vars=task_vars))
        result["ran"] = True
        return result
