# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause
"""Run one command on the host through the connection, without a module.

A module costs about 0.2 s a task even when it only reads: the host's Python unpacks and
imports Ansible's module code first. The collection's action plugins that only read (or read
before they hand over to a builtin module) run their command here instead: one round trip,
about 0.05 s over SSH with pipelining, with become as the task has it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import shlex

# Something on standard input: the ssh connection asks for a terminal (-tt) for a command
# with no input, which merges standard error into standard output and ends lines with \r\n.
NO_INPUT = b"\n"


def run_quick(action, command, stdin=None):
    """(rc, stdout, stderr) of ``command`` (a shell command line) run by ``action``'s connection."""
    out = action._low_level_execute_command(command, sudoable=True, in_data=stdin or NO_INPUT)  # pylint: disable=protected-access
    return out.get("rc"), out.get("stdout", ""), out.get("stderr", "")


def host_python(action, task_vars):
    """The host's Python, as Ansible runs modules with it, or None where it is not known yet."""
    interpreter = task_vars.get("ansible_python_interpreter")
    if interpreter:
        interpreter = action._templar.template(interpreter)  # pylint: disable=protected-access
    if not interpreter or str(interpreter).startswith("auto"):
        interpreter = task_vars.get("ansible_facts", {}).get("discovered_interpreter_python")
    return str(interpreter) if interpreter else None


def run_python(action, task_vars, code_module, args):
    """What ``code_module`` (a module_utils file of the collection, standard library only,
    whose ``main(argv)`` prints a JSON answer for the JSON in ``argv[1]``) answers for ``args``,
    run by the host's Python in one command; None where that cannot run (no known Python,
    an answer that is not JSON), and the caller then runs its module instead."""
    python = host_python(action, task_vars)
    if not python:
        return None
    with open(code_module.__file__.replace(".pyc", ".py"), "rb") as handle:
        code = handle.read()
    # The program on standard input ("-"), the arguments as JSON after it.
    command = " ".join(shlex.quote(part) for part in (python, "-", json.dumps(args)))
    rc, stdout, dummy = run_quick(action, command, stdin=code)
    if rc != 0:
        return None
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
