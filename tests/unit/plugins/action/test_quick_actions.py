"""baremetal.jupyterhub.files and .read_command, run by ansible-playbook on this machine.

A real play (connection local, no become) on files under tmp_path: the first run writes, the
second changes nothing and runs no builtin module, check mode and diff tell what would
change without changing it, a failing step stops the task, and read_command returns what
the command printed. Each play dumps what the tasks registered to a JSON file.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
BIN = pathlib.Path(sys.executable).parent

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{python}"
    out: "{out}"
  tasks:
    - name: Write the files
      baremetal.jupyterhub.files:
        files:
          - file: {{path: "{{{{ out }}}}/etc", state: directory, mode: "0755"}}
          - template: {{src: app.conf.j2, dest: "{{{{ out }}}}/etc/app.conf", mode: "0644", backup: true, validate: "{validate}"}}
          - copy: {{content: "", dest: "{{{{ out }}}}/etc/banned.conf", mode: "0600", force: false}}
          - file: {{src: "{{{{ out }}}}/etc/app.conf", dest: "{{{{ out }}}}/etc/enabled.conf", state: link, force: true}}
          - file: {{path: "{{{{ out }}}}/etc/old.conf", state: absent}}
          - copy: {{content: "never\\n", dest: "{{{{ out }}}}/etc/never"}}
            enabled: "{{{{ false }}}}"
      register: written
      ignore_errors: true

    - name: Read a file
      baremetal.jupyterhub.read_command:
        argv: [cat, "{{{{ out }}}}/etc/app.conf"]
      register: read
      failed_when: false

    - name: Read something that is not there
      baremetal.jupyterhub.read_command:
        cmd: ls -d {{{{ out }}}}/etc /nonexistent-bmjh
      register: missing
      failed_when: false

    - name: Run a program given on standard input
      baremetal.jupyterhub.read_command:
        argv: ["{python}", "-", "an argument"]
        stdin: "import sys; print(sys.argv[1:])"
      register: piped

    - name: Keep what the tasks registered
      ansible.builtin.copy:
        content: "{{{{ {{'written': written, 'read': read, 'missing': missing, 'piped': piped}} | to_json }}}}"
        dest: "{{{{ out }}}}/registered.json"
        mode: "0644"
      check_mode: false
"""


def ansible_playbook(tmp_path: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    """ansible-playbook of this venv, with the collection from the checkout and no other settings."""
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "playbooks" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"))
    return subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def play(tmp_path: pathlib.Path, *args: str, value: str = "1", validate: str = "true %s") -> tuple[dict, str]:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "app.conf.j2").write_text("value = {{ value }}\n")
    (tmp_path / "play.yml").write_text(PLAY.format(python=sys.executable, out=tmp_path, validate=validate))
    proc = ansible_playbook(tmp_path, str(tmp_path / "play.yml"), "-e", f"value={value}", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "registered.json").read_text()), proc.stdout


def test_first_run_writes_second_run_changes_nothing_without_a_module(tmp_path):
    first, dummy = play(tmp_path)
    assert first["written"]["changed"] is True
    assert [r["ran"] for r in first["written"]["results"]] == [True, True, True, True, False]
    assert (tmp_path / "etc" / "app.conf").read_text() == "value = 1\n"
    assert os.readlink(tmp_path / "etc" / "enabled.conf") == str(tmp_path / "etc" / "app.conf")
    assert not (tmp_path / "etc" / "never").exists()
    assert oct((tmp_path / "etc" / "banned.conf").stat().st_mode & 0o777) == "0o600"

    second, dummy = play(tmp_path)
    assert second["written"]["changed"] is False
    assert [r["ran"] for r in second["written"]["results"]] == [False] * 5
    assert second["written"]["checked_by"] == "command"


def test_check_mode_and_diff_tell_what_would_change_and_change_nothing(tmp_path):
    play(tmp_path)
    before = (tmp_path / "etc" / "app.conf").stat().st_mtime_ns
    result, out = play(tmp_path, "--check", "--diff", value="2")
    assert result["written"]["changed"] is True
    assert [r["path"] for r in result["written"]["results"] if r["ran"]] == [str(tmp_path / "etc" / "app.conf")]
    assert "-value = 1" in out and "+value = 2" in out
    assert (tmp_path / "etc" / "app.conf").read_text() == "value = 1\n"
    assert (tmp_path / "etc" / "app.conf").stat().st_mtime_ns == before


def test_a_step_that_fails_stops_the_task_and_says_which_file(tmp_path):
    result, dummy = play(tmp_path, validate="false %s")
    written = result["written"]
    assert written["failed"] is True
    assert written["msg"].startswith(f"{tmp_path}/etc/app.conf (template): ")
    # The directory was made before; nothing after the failing step ran.
    assert [r["ran"] for r in written["results"]] == [True, True]
    assert not (tmp_path / "etc" / "app.conf").exists()
    assert not (tmp_path / "etc" / "banned.conf").exists()


def test_read_command_returns_what_the_command_printed(tmp_path):
    result, dummy = play(tmp_path, "--check")
    # In check mode too: it only reads (the template is not written in check mode).
    assert result["read"]["rc"] == 1 and "No such file" in result["read"]["stderr"]
    missing = result["missing"]
    assert missing["changed"] is False
    assert missing["rc"] == 2
    assert missing["stdout_lines"] == [str(tmp_path / "etc")] or missing["stdout_lines"] == []
    assert "\r" not in missing["stdout"] + missing["stderr"]
    assert "/nonexistent-bmjh" in missing["stderr"] and "/nonexistent-bmjh" not in missing["stdout"]

    assert result["piped"]["stdout"] == "['an argument']"

    result, dummy = play(tmp_path)
    assert result["read"]["rc"] == 0 and result["read"]["stdout"] == "value = 1"
    assert result["missing"]["stdout_lines"] == [str(tmp_path / "etc")]


@pytest.mark.parametrize("steps,message", [
    ("[{copy: {dest: /tmp/x}, file: {path: /tmp/x}}]", "exactly one of copy, file or template"),
    ("not-a-list", "files must be a list of steps"),
])
def test_bad_steps_fail_before_anything_changes(tmp_path, steps, message):
    (tmp_path / "bad.yml").write_text(textwrap.dedent(f"""
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - baremetal.jupyterhub.files:
                files: {steps}
        """))
    proc = ansible_playbook(tmp_path, str(tmp_path / "bad.yml"), "-e", f"ansible_python_interpreter={sys.executable}")
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
