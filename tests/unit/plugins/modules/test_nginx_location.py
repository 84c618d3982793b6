"""nginx_location: taking over the guide's hub location in an admin's site, on a copy of
Debian 12's stock default site edited the guide's way (tests/unit/fixtures/nginx)."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.module_utils import nginx_conf
from ansible_collections.baremetal.jupyterhub.plugins.modules import nginx_location as nl
from modrun import run_module

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "nginx"
GUIDE = (FIXTURES / "guide-default").read_text()
SNIPPET = "/etc/nginx/snippets/jupyterhub.conf"


def site(tmp_path, text=GUIDE, name="default"):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o644)
    return path


def run(tmp_path, check_mode=False, **kw):
    params = dict(paths=[str(tmp_path / "*")], location="/jupyter/", include=SNIPPET)
    params.update(kw)
    return run_module(nl, params, check_mode=check_mode, diff=True)


def test_takes_over_the_guides_block_and_keeps_everything_else(tmp_path):
    path = site(tmp_path)
    result = run(tmp_path, backup_dir=str(tmp_path.parent / "backups"))
    assert not result["failed"], result["msg"]
    assert result["changed"]
    after = path.read_text()
    # The block is now the include, at the block's indentation; the map is gone.
    assert "  include /etc/nginx/snippets/jupyterhub.conf;\n" in after
    assert "proxy_pass" not in after and "$connection_upgrade" not in after and "map " not in after
    # Every other line is as it was: lines 6-9 (the map) are gone, 24-38 (the block) are the include.
    lines = GUIDE.splitlines(keepends=True)
    assert after == "".join(lines[:5] + lines[9:23] + ["  include /etc/nginx/snippets/jupyterhub.conf;\n"] + lines[38:])
    assert "location /wiki/ {" in after and "server_name _;" in after
    assert result["files"][0]["replaced_lines"] == "24-38" and result["files"][0]["removed_map_lines"] == "6-9"
    assert pathlib.Path(result["files"][0]["backup_file"]).read_text() == GUIDE
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert result["default_servers"] == [
        {"path": str(path), "port": 80, "line": 14, "serves_hub": True},
        {"path": str(path), "port": 80, "line": 15, "serves_hub": True},
    ]
    assert result["diff"][0]["before"] == GUIDE and result["diff"][0]["after"] == after
    # A second run finds the include and changes nothing; the site still serves the hub.
    again = run(tmp_path)
    assert not again["changed"] and again["files"] == [] and again["serving"] == [str(path)]
    assert nginx_conf.parse(after)  # still a well-formed file


def test_absent_removes_the_include_and_nothing_else(tmp_path):
    path = site(tmp_path)
    assert run(tmp_path)["changed"]
    taken_over = path.read_text()
    result = run(tmp_path, state="absent", backup_dir=str(tmp_path.parent / "backups"))
    assert result["changed"] and result["files"][0]["removed_include_lines"] == "20"
    lines = taken_over.splitlines(keepends=True)
    assert path.read_text() == "".join(lines[:19] + lines[20:])
    assert nginx_conf.parse(path.read_text())
    again = run(tmp_path, state="absent")
    assert not again["changed"] and again["files"] == []


def test_check_mode_reports_and_writes_nothing(tmp_path):
    path = site(tmp_path)
    result = run(tmp_path, check_mode=True, backup_dir=str(tmp_path / "backups"))
    assert result["changed"] and result["files"][0]["path"] == str(path)
    assert "backup_file" not in result["files"][0]
    assert path.read_text() == GUIDE and sorted(p.name for p in tmp_path.iterdir()) == ["default"]


@pytest.mark.parametrize("added, why", [
    ("    return 200 'hello';\n", "it holds 'return'"),
    ("    location /jupyter/api/ { proxy_pass http://127.0.0.1:8000; }\n", "it holds 'location'"),
])
def test_refuses_a_block_that_is_not_the_guides_and_names_its_lines(tmp_path, added, why):
    text = GUIDE.replace("    proxy_redirect   off;\n", "    proxy_redirect   off;\n" + added)
    path = site(tmp_path, text)
    result = run(tmp_path)
    assert result["failed"]
    assert why in result["msg"] and "lines 24-" in result["msg"] and "nothing was changed" in result["msg"]
    assert "location /jupyter/ {" in result["msg"]
    assert path.read_text() == text


def test_refuses_a_block_that_passes_elsewhere(tmp_path):
    text = GUIDE.replace("proxy_pass http://127.0.0.1:8000;", "proxy_pass http://10.0.0.5:8000;")
    path = site(tmp_path, text)
    result = run(tmp_path)
    assert result["failed"] and "passes to http://10.0.0.5:8000" in result["msg"]
    assert path.read_text() == text


def test_keeps_the_map_while_something_else_uses_it(tmp_path):
    site(tmp_path)
    other = site(tmp_path, "server {\n    listen 8080;\n    location /ws/ {\n"
                           "        proxy_set_header Connection $connection_upgrade;\n        proxy_pass http://127.0.0.1:9000;\n"
                           "    }\n}\n", name="other")
    result = run(tmp_path)
    assert result["changed"] and result["files"][0]["removed_map_lines"] == ""
    assert "map $http_upgrade $connection_upgrade" in (tmp_path / "default").read_text()
    assert "$connection_upgrade" in other.read_text()


def test_without_trailing_slash_and_excluded_files(tmp_path):
    site(tmp_path, GUIDE.replace("location /jupyter/ {", "location /jupyter {"))
    assert run(tmp_path)["changed"]
    site(tmp_path)
    assert not run(tmp_path, exclude=[str(tmp_path / "default")])["changed"]


def test_other_default_servers_are_reported(tmp_path):
    path = site(tmp_path, "server {\n  listen 443 ssl default_server;\n  listen 8443 default_server;\n  server_name x;\n}\n")
    result = run(tmp_path)
    assert not result["changed"] and result["serving"] == []
    assert result["default_servers"] == [{"path": str(path), "port": 443, "line": 2, "serves_hub": False}]


def test_unreadable_syntax_is_refused(tmp_path):
    site(tmp_path, "server {\n  listen 80;\n")
    result = run(tmp_path)
    assert result["failed"] and "is not closed" in result["msg"] and "nothing was changed" in result["msg"]


@pytest.mark.parametrize("args, port", [
    (["80"], 80), (["[::]:443", "ssl"], 443), (["127.0.0.1:8080"], 8080), (["localhost"], 80),
    (["127.0.0.1"], 80), (["unix:/run/x.sock"], None),
])
def test_listen_port(args, port):
    assert nginx_conf.listen_port(args) == port


def test_lexer_quotes_comments_and_variables():
    nodes = nginx_conf.parse("a \"x;y\" '#z' ${v}w; # c ; {\nb { c d; }\n")
    assert [(n.name, n.args) for n in nodes] == [("a", ["x;y", "#z", "${v}w"]), ("b", [])]
    assert [(c.name, c.args) for c in nodes[1].children] == [("c", ["d"])]
