"""systemd_unit: when systemd's answer shows the unit already is as asked (no module runs).

The `systemctl show --property=LoadState,ActiveState,UnitFileState` outputs below were
recorded from systemd 252 (Debian 12) on the bench host.
"""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.action.systemd_unit import unit_properties, why_not_current

RUNNING_ENABLED = "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"
STOPPED_DISABLED = "LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n"
NOT_FOUND = "LoadState=not-found\nActiveState=inactive\nUnitFileState=\n"


def test_systemctl_show_output_parses():
    assert unit_properties(RUNNING_ENABLED) == {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
    assert unit_properties(NOT_FOUND)["UnitFileState"] == ""


@pytest.mark.parametrize("args,shown,expected", [
    ({"name": "nginx", "state": "started", "enabled": True}, RUNNING_ENABLED, None),
    ({"name": "nginx", "state": "started"}, RUNNING_ENABLED, None),
    ({"name": "nginx", "enabled": "yes"}, RUNNING_ENABLED, None),
    ({"name": "nginx", "state": "stopped", "enabled": False}, STOPPED_DISABLED, None),
    ({"name": "nginx", "state": "started", "enabled": True}, STOPPED_DISABLED, "not running"),
    ({"name": "nginx", "state": "stopped"}, RUNNING_ENABLED, "running"),
    ({"name": "nginx", "enabled": True}, STOPPED_DISABLED, "unit file state disabled"),
    ({"name": "nginx", "enabled": False}, RUNNING_ENABLED, "unit file state enabled"),
    ({"name": "nginx", "state": "restarted"}, RUNNING_ENABLED, "state restarted always acts"),
    ({"name": "nginx", "state": "reloaded"}, RUNNING_ENABLED, "state reloaded always acts"),
    ({"name": "nginx", "state": "started", "daemon_reload": True}, RUNNING_ENABLED, "arguments the check does not read: daemon_reload"),
    ({"name": "nginx", "state": "started"}, NOT_FOUND, "not loaded"),
])
def test_the_module_runs_unless_the_unit_already_is_as_asked(args, shown, expected):
    assert why_not_current(args, unit_properties(shown)) == expected


def test_arguments_left_unset_are_not_arguments():
    # A task's omitted arguments arrive as None.
    assert why_not_current({"name": "nginx", "state": "started", "masked": None}, unit_properties(RUNNING_ENABLED)) is None


def test_quick_commands_send_input_so_that_ssh_gives_them_no_terminal():
    """ansible's ssh connection asks for a terminal (-tt) for a become command without input:
    standard error then ends up in standard output and lines end with \\r\\n (seen on the bench
    host: `ls -d` printed its columns, and IPv6 went missing from nginx's site)."""
    from ansible_collections.baremetal.jupyterhub.plugins.plugin_utils.quick import run_quick

    class Action:
        calls = []

        def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
            self.calls.append((cmd, sudoable, in_data))
            return {"rc": 0, "stdout": "x\n", "stderr": ""}

    action = Action()
    assert run_quick(action, "ls -d /") == (0, "x\n", "")
    assert run_quick(action, "python3 -", stdin=b"print(1)") == (0, "x\n", "")
    assert [(sudo, bool(data)) for _cmd, sudo, data in action.calls] == [(True, True), (True, True)]
    assert action.calls[1][2] == b"print(1)"
