# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause
"""Action for baremetal.jupyterhub.files: template, copy and file steps as one task.

One module call asks the host which steps are already right; only the others run, each through
its builtin action or module, so check mode, diff, validate and backup are the builtin ones.
Templates are rendered by ansible.builtin.template itself (its copy step is caught before it
reaches the host), so the content compared is byte for byte what it would write.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.jupyterhub.plugins.plugin_utils.quick import run_python

from ansible_collections.baremetal.jupyterhub.plugins.module_utils import file_state
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.file_state import step_kind, step_path

MODULE = "baremetal.jupyterhub.files"


class CaughtCopy:
    """Stands in for the copy action that ansible.builtin.template hands its rendered file to."""

    def __init__(self, sink):
        self.sink = sink
        self.task = None

    def get(self, name, *args, **kwargs):  # pylint: disable=unused-argument
        if name not in ("ansible.legacy.copy", "copy", "ansible.builtin.copy"):
            raise AnsibleActionFail("%s: the template action asked for %s, not copy" % (MODULE, name))
        self.task = kwargs["task"]
        return self

    def run(self, tmp=None, task_vars=None):  # pylint: disable=unused-argument
        with open(self.task.args["src"], "rb") as handle:
            self.sink["content"] = handle.read()
        return {"changed": False}


class LoaderWithCaughtCopy:
    """The shared plugin loader, but its action loader gives ansible.builtin.template a CaughtCopy."""

    def __init__(self, shared, sink):
        self._shared = shared
        self.action_loader = CaughtCopy(sink)

    def __getattr__(self, name):
        return getattr(self._shared, name)


def render_tmpdir(tmpdir):
    """The remote temporary directory while a template renders: the real one, or a name never made."""
    return tmpdir or "/nonexistent/baremetal-jupyterhub-render-only"


class ActionModule(ActionBase):

    # The steps that write make their own temporary directory, through their builtin action.
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("files",))

    def _action(self, name, args):
        task = self._task.copy()
        task.args.clear()
        task.args.update(args)
        return self._shared_loader_obj.action_loader.get(
            name, task=task, connection=self._connection, play_context=self._play_context, loader=self._loader,
            templar=self._templar, shared_loader_obj=self._shared_loader_obj)

    def _rendered(self, args, task_vars):
        """The bytes ansible.builtin.template would write for these arguments."""
        sink = {}
        action = self._action("ansible.legacy.template", args)
        # Set after it is made: ansible-core 2.19 ignores the loader passed to an action.
        action._shared_loader_obj = LoaderWithCaughtCopy(self._shared_loader_obj, sink)
        # The template action makes a remote temporary directory first (it transfers files)
        # and removes it at the end: two round trips for a file that never leaves here. A
        # placeholder stops both (ActionBase removes only paths with "-tmp-" in them).
        shell = self._connection._shell
        before, shell.tmpdir = shell.tmpdir, render_tmpdir(shell.tmpdir)
        try:
            result = action.run(task_vars=dict(task_vars))
        finally:
            shell.tmpdir = before
        if result.get("failed") or "content" not in sink:
            raise AnsibleActionFail("%s: cannot render %s: %s" % (MODULE, args.get("src"), result.get("msg", "no content")))
        return sink["content"]

    def _checksum(self, kind, args, task_vars):
        """SHA-1 of what a template or copy step writes, or None where the check cannot know it."""
        if kind == "template":
            return hashlib.sha1(self._rendered(args, task_vars)).hexdigest()
        if kind == "copy":
            if args.get("content") is not None:
                content = args["content"]
                return hashlib.sha1(content.encode("utf-8")).hexdigest() if isinstance(content, str) else None
            if args.get("src") and not args.get("remote_src") and not str(args["src"]).endswith("/"):
                source = self._find_needle("files", args["src"])
                real = self._loader.get_real_file(source)
                try:
                    with open(real, "rb") as handle:
                        return hashlib.sha1(handle.read()).hexdigest()
                finally:
                    self._loader.cleanup_tmp_file(real)
        return None

    def _check(self, steps, task_vars):
        """Which steps are current: file_state run by the host's Python in one command (about
        0.05 s), or, where that cannot run, by the module (about 0.2 s)."""
        answer = run_python(self, task_vars, file_state, steps)
        if answer is not None and ("results" in answer or answer.get("failed")):
            return dict(answer, checked_by="command")
        return dict(self._execute_module(module_name=MODULE, module_args={"files": steps}, task_vars=task_vars),
                    checked_by="module")

    def _run_step(self, kind, args, task_vars):
        if kind == "file":
            return self._execute_module(module_name="ansible.legacy.file", module_args=dict(args), task_vars=task_vars)
        return self._action("ansible.legacy." + kind, args).run(task_vars=task_vars)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        steps = self._task.args.get("files")
        if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
            raise AnsibleActionFail("%s: files must be a list of steps (dicts)" % MODULE)
        try:
            steps = [step for step in steps if boolean(step.get("enabled", True), strict=False)]
            plan = []
            for step in steps:
                kind = step_kind(step)
                args = step[kind]
                if not isinstance(args, dict):
                    raise AnsibleActionFail("%s: the arguments of %s must be a dict" % (MODULE, kind))
                plan.append((kind, args, self._checksum(kind, args, task_vars)))
        except ValueError as err:
            raise AnsibleActionFail("%s: %s" % (MODULE, err)) from err

        probe = self._check([{kind: args, "checksum": checksum} for kind, args, checksum in plan], task_vars)
        if probe.get("failed"):
            return dict(result, **probe)

        results, diffs = [], []
        for (kind, args, checksum), seen in zip(plan, probe["results"]):
            path = step_path(kind, args)
            if seen["current"]:
                step_result = {"changed": False, "path": path, "dest": path}
                if checksum:
                    step_result["checksum"] = checksum
            else:
                step_result = self._run_step(kind, args, task_vars)
                step_result.setdefault("path", path)
                step_result.setdefault("dest", path)
            step_result.update(module=kind, ran=not seen["current"])
            results.append(step_result)
            if step_result.get("diff") and step_result.get("changed"):
                diffs.extend(step_result["diff"] if isinstance(step_result["diff"], list) else [step_result["diff"]])
            if step_result.get("failed"):
                result.update(failed=True, msg="%s (%s): %s" % (path, kind, step_result.get("msg", "failed")))
                break
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(changed=any(r.get("changed") for r in results), results=results, checked_by=probe["checked_by"])
        if diffs:
            result["diff"] = diffs
        return result
