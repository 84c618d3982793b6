"""file_state: whether the steps of baremetal.jupyterhub.files are already right, on real files.

The action plugin runs this file's source with the host's Python (``python3 - STEPS_JSON``):
the last tests run it exactly that way.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import subprocess
import sys

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.module_utils import file_state as fs

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "site.conf"
    path.write_bytes(b"server {}\n")
    path.chmod(0o644)
    return path


def test_a_file_with_the_content_owner_and_mode_asked_is_current(conf):
    args = {"dest": str(conf), "owner": ME, "group": MY_GROUP, "mode": "0644", "backup": True, "validate": "true %s"}
    assert fs.why_not_current("template", args, sha1(b"server {}\n")) is None
    assert fs.why_not_current("copy", dict(args, content="server {}\n"), sha1(b"server {}\n")) is None


@pytest.mark.parametrize("change,expected", [
    ({"checksum": sha1(b"server { listen 80; }\n")}, "content"),
    ({"mode": "0600"}, "mode"),
    ({"mode": "600"}, "mode"),
    ({"owner": "0" if os.getuid() else "65534"}, "owner"),
    ({"group": "no-such-group-bmjh"}, "no such user or group"),
    # YAML reads 0644 unquoted as 420: the builtin module decides what that means.
    ({"mode": 420}, "mode not given as an octal string"),
    ({"mode": "u=rw,go=r"}, "mode not given as an octal string"),
    ({"checksum": None}, "content not known"),
])
def test_what_differs_is_named(conf, change, expected):
    checksum = change.pop("checksum", sha1(b"server {}\n"))
    args = dict({"dest": str(conf), "owner": ME, "mode": "0644"}, **change)
    assert fs.why_not_current("template", args, checksum) == expected


def test_force_false_keeps_any_content(conf):
    assert fs.why_not_current("copy", {"dest": str(conf), "content": "", "force": False}, sha1(b"")) is None
    assert fs.why_not_current("copy", {"dest": str(conf), "content": ""}, sha1(b"")) == "content"


def test_missing_file_and_paths_that_are_not_files(tmp_path, conf):
    assert fs.why_not_current("template", {"dest": str(tmp_path / "nope")}, sha1(b"")) == "missing"
    assert fs.why_not_current("template", {"dest": str(tmp_path)}, sha1(b"")) == "not a regular file"
    link = tmp_path / "link.conf"
    link.symlink_to(conf)
    # copy and template would replace or follow a link: the builtin module decides.
    assert fs.why_not_current("copy", {"dest": str(link)}, sha1(b"server {}\n")) == "not a regular file"
    assert fs.why_not_current("copy", {"dest": "relative/path"}, sha1(b"")) == "no absolute path"


def test_arguments_the_check_does_not_read_always_run(conf):
    reason = fs.why_not_current("copy", {"dest": str(conf), "remote_src": True, "src": "/x"}, None)
    assert reason == "arguments the check does not read: remote_src"
    reason = fs.why_not_current("file", {"path": str(conf), "state": "directory", "recurse": True})
    assert reason == "arguments the check does not read: recurse"


def test_directories(tmp_path, conf):
    assert fs.why_not_current("file", {"path": str(tmp_path), "state": "directory", "owner": ME}) is None
    mode = "%04o" % (os.stat(tmp_path).st_mode & 0o7777)
    assert fs.why_not_current("file", {"path": str(tmp_path), "state": "directory", "mode": mode}) is None
    assert fs.why_not_current("file", {"path": str(tmp_path), "state": "directory", "mode": "0700" if mode != "0700" else "0755"}) == "mode"
    assert fs.why_not_current("file", {"path": str(conf), "state": "directory"}) == "not a directory"
    assert fs.why_not_current("file", {"path": str(tmp_path / "new"), "state": "directory"}) == "missing"


def test_links(tmp_path, conf):
    link = tmp_path / "enabled.conf"
    link.symlink_to(conf)
    assert fs.why_not_current("file", {"src": str(conf), "dest": str(link), "state": "link", "force": True}) is None
    assert fs.why_not_current("file", {"src": str(tmp_path / "other"), "dest": str(link), "state": "link"}) == "link target"
    assert fs.why_not_current("file", {"src": str(conf), "path": str(conf), "state": "link"}) == "not a link"
    assert fs.why_not_current("file", {"src": str(conf), "path": str(link), "state": "link", "mode": "0644"}) == "mode on a link"


def test_absent(tmp_path, conf):
    assert fs.why_not_current("file", {"path": str(tmp_path / "gone"), "state": "absent"}) is None
    assert fs.why_not_current("file", {"path": str(conf), "state": "absent"}) == "present"


def test_a_touch_is_a_no_op_only_when_it_keeps_both_times(conf):
    keep = {"path": str(conf), "state": "touch", "mode": "0644", "access_time": "preserve", "modification_time": "preserve"}
    assert fs.why_not_current("file", keep) is None
    assert fs.why_not_current("file", dict(keep, modification_time="now")) == "times are set"
    assert fs.why_not_current("file", dict(keep, modification_time=None)) == "touch changes the file's times"
    assert fs.why_not_current("file", {"path": str(conf), "state": "touch"}) == "touch changes the file's times"
    assert fs.why_not_current("file", dict(keep, path=str(conf) + ".new")) == "missing"


def test_times_kept_as_they_are_change_nothing_whatever_the_state(tmp_path):
    # A directory step built from the same settings as the files in it (seen: the hub's
    # state directory ran through the file module on every run).
    keep = {"access_time": "preserve", "modification_time": "preserve"}
    assert fs.why_not_current("file", dict(keep, path=str(tmp_path), state="directory")) is None
    assert fs.why_not_current("file", dict(path=str(tmp_path), state="directory", access_time="now")) == "times are set"


def test_each_step_names_one_module():
    with pytest.raises(ValueError, match="exactly one of copy, file or template; this one has copy, file"):
        fs.step_kind({"copy": {"dest": "/x"}, "file": {"path": "/x"}})
    with pytest.raises(ValueError, match="this one has none"):
        fs.step_kind({"enabled": True})


def test_check_steps_leaves_out_steps_that_are_not_enabled(tmp_path, conf):
    results = fs.check_steps([
        {"file": {"path": str(tmp_path), "state": "directory"}},
        {"copy": {"dest": str(tmp_path / "x")}, "enabled": False},
        {"template": {"dest": str(conf)}, "checksum": sha1(b"other\n")},
    ])
    assert results == [
        {"path": str(tmp_path), "module": "file", "current": True, "why": None},
        {"path": str(conf), "module": "template", "current": False, "why": "content"},
    ]


def _run_as_the_action_does(steps) -> dict:
    source = file_state_source()
    proc = subprocess.run([sys.executable, "-", json.dumps(steps)], input=source, capture_output=True, check=True)
    return json.loads(proc.stdout)


def file_state_source() -> bytes:
    with open(fs.__file__.replace(".pyc", ".py"), "rb") as handle:
        return handle.read()


def test_the_source_alone_answers_on_stdout_as_the_action_runs_it(tmp_path, conf):
    answer = _run_as_the_action_does([
        {"copy": {"dest": str(conf), "content": "server {}\n", "mode": "0644"}, "checksum": sha1(b"server {}\n")},
        {"file": {"path": str(tmp_path / "missing"), "state": "directory"}},
    ])
    assert answer == {"results": [
        {"path": str(conf), "module": "copy", "current": True, "why": None},
        {"path": str(tmp_path / "missing"), "module": "file", "current": False, "why": "missing"},
    ]}


def test_the_source_alone_reports_bad_steps_as_a_failure():
    assert _run_as_the_action_does([{"copy": {"dest": "/x"}, "file": {"path": "/x"}}])["failed"] is True
