"""Run an Ansible module's main() in-process, with run_command replaced by a script.

    result = run_module(conda_env, {"prefix": "/opt/x"}, commands=[
        Cmd(["/opt/conda/bin/conda", "list", ...], rc=0, out="[...]"),
    ], check_mode=True, diff=True)

Each command the module runs must match the next expected one (argv, and stdin/env when
given), in order; any left over or unexpected fails the test. The result is the dict the
module passed to exit_json or fail_json, with "failed": True for the latter.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from ansible.module_utils import basic

try:  # ansible-core 2.19 and newer
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # 2.16 to 2.18: AnsibleModule reads its arguments from basic._ANSIBLE_ARGS
    import contextlib

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


@dataclasses.dataclass
class Cmd:
    argv: list[str]
    rc: int = 0
    out: str = ""
    err: str = ""
    # Only checked when not None.
    data: str | None = None
    environ_update: dict[str, str] | None = None


def substitute(obj, names: dict[str, str]):
    """Replace {name} placeholders of the case tables in every string, dict key included
    (not str.format: a kernel's {connection_file} stays as it is)."""
    if isinstance(obj, str):
        for key, value in names.items():
            obj = obj.replace("{%s}" % key, value)
        return obj
    if isinstance(obj, list):
        return [substitute(x, names) for x in obj]
    if isinstance(obj, dict):
        return {substitute(k, names): substitute(v, names) for k, v in obj.items()}
    return obj


class _Exit(Exception):
    def __init__(self, result: dict[str, Any]):
        super().__init__(result)
        self.result = result


def run_module(module, params: dict[str, Any], commands: list[Cmd] | None = None,
               check_mode: bool = False, diff: bool = False, monkeypatch=None) -> dict[str, Any]:
    expected = list(commands or [])
    ran: list[list[str]] = []

    def fake_run_command(self, args, check_rc=False, data=None, environ_update=None, **kwargs):
        argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else args
        ran.append(argv)
        if not expected:
            pytest.fail(f"unexpected command: {argv}\nran so far: {json.dumps(ran, indent=1)}")
        cmd = expected.pop(0)
        assert argv == cmd.argv, f"command #{len(ran)} differs"
        if cmd.data is not None:
            assert data == cmd.data, f"stdin of {argv} differs"
        if cmd.environ_update is not None:
            for k, v in cmd.environ_update.items():
                assert (environ_update or {}).get(k) == v, f"{k} not set to {v!r} for {argv}"
        if check_rc and cmd.rc != 0:
            self.fail_json(msg=cmd.err or "command failed", rc=cmd.rc, stdout=cmd.out, stderr=cmd.err, cmd=argv)
        return cmd.rc, cmd.out, cmd.err

    def exit_json(self, **kwargs):
        raise _Exit(dict(kwargs, failed=False))

    def fail_json(self, msg, **kwargs):
        raise _Exit(dict(kwargs, msg=msg, failed=True))

    mp = monkeypatch or pytest.MonkeyPatch()
    mp.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    mp.setattr(basic.AnsibleModule, "exit_json", exit_json)
    mp.setattr(basic.AnsibleModule, "fail_json", fail_json)
    args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=diff)
    try:
        with patch_module_args(args):
            with pytest.raises(_Exit) as exc:
                module.main()
    finally:
        if monkeypatch is None:
            mp.undo()
    result = exc.value.result
    result["_commands_ran"] = ran
    if expected and not result["failed"]:
        pytest.fail(f"commands expected but not run: {[c.argv for c in expected]}")
    return result
