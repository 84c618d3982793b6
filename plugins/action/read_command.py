# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause
"""Action for baremetal.jupyterhub.read_command: a command that only reads, in one round trip.

A module (ansible.builtin.command, stat, slurp, find) costs about 0.2 s a task even when all it
does is read: the host's Python unpacks and imports Ansible's module code first. This action
runs the command through the connection directly (as ansible.builtin.raw does), about 0.05 s,
and returns what ansible.builtin.command returns. It never reports a change and runs in check
mode too, as the state it reads decides what the other tasks do.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.jupyterhub.plugins.plugin_utils.quick import run_quick


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("argv", "cmd", "executable", "stdin"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        del tmp
        argv, cmd = self._task.args.get("argv"), self._task.args.get("cmd")
        if (argv is None) == (cmd is None):
            raise AnsibleActionFail("baremetal.jupyterhub.read_command needs exactly one of argv and cmd")
        if argv is not None:
            if not isinstance(argv, list) or not argv or not all(isinstance(a, (str, int, float)) for a in argv):
                raise AnsibleActionFail("argv must be a non-empty list of strings")
            command = " ".join(shlex.quote(str(a)) for a in argv)
        else:
            shell = str(self._task.args.get("executable") or "/bin/sh")
            command = "%s -c %s" % (shlex.quote(shell), shlex.quote(str(cmd)))
        environment = self._compute_environment_string()
        if environment:
            command = "%s %s" % (environment.strip(), command)
        stdin = self._task.args.get("stdin")
        rc, stdout, stderr = run_quick(self, command, stdin=stdin.encode("utf-8") if stdin else None)
        stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
        result.update(
            changed=False, cmd=argv if argv is not None else cmd, rc=rc,
            stdout=stdout, stderr=stderr, stdout_lines=stdout.splitlines(), stderr_lines=stderr.splitlines())
        if rc != 0:
            result.update(failed=True, msg="non-zero return code")
        return result
