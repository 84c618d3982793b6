"""Day 2, the admin's playbooks over SSH: upgrade JupyterHub (database backed up first,
upgrade-db run, users and their state kept), back up the hub's state to the controller,
uninstall (twice: the second run changes nothing), install again and restore.

The ssh scenario installs JupyterHub 5.5.4 first; these tests upgrade it to CURRENT.
"""

import dataclasses

import pytest
import requests

from hub import logged_in
from sitecli import recap, run_admin

pytestmark = pytest.mark.day2_ops

OLD, CURRENT = "5.5.4", "6.1.1"
OTHER_SITE = "server { listen 127.0.0.1:8090; location / { return 200 'the other site'; } }\n"
FETCH_OTHER = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8090/').read().decode())"
HEAD_REVISION = r'''
import os, sqlite3
from alembic.config import Config
from alembic.script import ScriptDirectory
import jupyterhub
cfg = Config()
cfg.set_main_option("script_location", os.path.join(os.path.dirname(jupyterhub.__file__), "alembic"))
head = ScriptDirectory.from_config(cfg).get_current_head()
db = sqlite3.connect("/var/lib/jupyterhub/jupyterhub.sqlite").execute("select version_num from alembic_version").fetchone()[0]
print(jupyterhub.__version__, head, db)
'''


def test_a_role_variable_set_in_the_inventory_wins(targets):
    """The admin's inventory (molecule/ssh/converge.yml) sets http_proxy_error_target in
    host_vars: the proxy runs with that value, not with the default the role derives from
    the site-level settings (the site playbook sets no role variable that would outrank it)."""
    for target in targets:
        unit = target.exec("systemctl", "cat", "configurable-http-proxy.service").stdout
        assert "--error-target http://localhost:8081/jupyter/hub/error " in unit, unit


def _hub_version(target):
    return target.exec("/opt/jupyterhub/bin/python", "-c", "import jupyterhub; print(jupyterhub.__version__)").stdout.strip()


@pytest.fixture(scope="module")
def before_upgrade(targets):
    """Who the hub knows before the upgrade, and when they were created."""
    state = {}
    for target in targets:
        assert _hub_version(target) == OLD, "the scenario should have installed the older JupyterHub"
        alice = logged_in(target, "alice")
        state[target.container] = {"alice": alice.user_model()["created"]}
    return state


def test_upgrade_keeps_users_and_backs_up_the_database(targets, before_upgrade):
    run = run_admin("site.yml", {"jupyterhub_venv_jupyterhub_version": CURRENT})
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    for target in targets:
        version, head, db = target.exec("/opt/jupyterhub/bin/python", "-c", HEAD_REVISION).stdout.split()
        assert version == CURRENT
        assert db == head, f"the database is at {db}, the current schema is {head}"
        backups = target.exec("sh", "-c", "ls /var/lib/jupyterhub/backups/").stdout.split()
        assert any(name.startswith(f"jupyterhub.sqlite.{OLD}-") for name in backups), backups
        assert target.exec("stat", "-c", "%a", f"/var/lib/jupyterhub/backups/{backups[-1]}").stdout.strip() == "600"
        alice = logged_in(target, "alice")
        assert alice.user_model()["created"] == before_upgrade[target.container]["alice"], "alice is a new user"
        alice.spawn()
    again = run_admin("site.yml", {"jupyterhub_venv_jupyterhub_version": CURRENT})
    for target in targets:
        assert recap(again, target.container)["changed"] == 0, "a second run after the upgrade changed something"


def test_backup_uninstall_install_restore(targets, tmp_path):
    backup_dir = tmp_path / "backups"
    kept = {}
    for target in targets:
        kept[target.container] = {
            "cookie": target.exec("cat", "/var/lib/jupyterhub/jupyterhub_cookie_secret").stdout.strip(),
            "alice": logged_in(target, "alice").user_model()["created"],
        }
        target.exec("sh", "-c", "echo 'my work' > /home/alice/work.txt && chown alice: /home/alice/work.txt")
        # Another site on the same nginx, which uninstall must leave serving.
        target.exec("sh", "-c", f"printf %s \"{OTHER_SITE}\" > /etc/nginx/sites-enabled/other.conf && systemctl reload nginx")
        assert target.exec("python3", "-c", FETCH_OTHER).stdout.strip() == "the other site"

    run = run_admin("backup.yml", {"jupyterhub_venv_backup_to": str(backup_dir)})
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    for target in targets:
        latest = backup_dir / target.container / "latest"
        for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret", "jupyterhub_config.py"):
            assert (latest / name).is_file(), name
            assert oct((latest / name).stat().st_mode & 0o777) == "0o600", name

    # The hub killed just before: uninstall finds it between restarts (Restart=always), and
    # must stop it for good before it disables and removes its unit.
    for target in targets:
        target.exec("systemctl", "kill", "--signal=SIGKILL", "jupyterhub.service")
    first, second = run_admin("uninstall.yml"), run_admin("uninstall.yml")
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    for target in targets:
        assert recap(first, target.container)["changed"] > 0
        assert recap(second, target.container)["changed"] == 0, "a second uninstall changed something"
        for path in ("/opt/jupyterhub", "/var/lib/jupyterhub", "/opt/configurable-http-proxy",
                     "/etc/configurable-http-proxy", "/etc/systemd/system/jupyterhub.service",
                     "/etc/systemd/system/configurable-http-proxy.service",
                     "/etc/nginx/sites-enabled/jupyterhub.conf", "/etc/nginx/sites-available/jupyterhub.conf",
                     "/etc/nginx/snippets/jupyterhub.conf", "/etc/nginx/conf.d/jupyterhub-upgrade-map.conf"):
            assert target.exec("test", "-e", path, check=False).returncode != 0, f"{path} remains"
        for unit in ("jupyterhub.service", "configurable-http-proxy.service"):
            state = target.exec("systemctl", "show", "-p", "LoadState", "--value", unit).stdout.strip()
            assert state == "not-found", f"{unit} is {state}"
        assert target.exec("id", "jupyterhub-proxy", check=False).returncode != 0
        assert not target.pids("alice", "jupyterhub-singleuser"), "alice's server still runs"
        assert target.exec("systemctl", "is-active", "nginx").stdout.strip() == "active"
        assert target.exec("python3", "-c", FETCH_OTHER).stdout.strip() == "the other site"
        # Users' homes (their own kernels and files) are left alone.
        assert target.exec("cat", "/home/alice/work.txt").stdout.strip() == "my work"
        assert target.exec("test", "-f", "/home/alice/.local/share/jupyter/kernels/mine/kernel.json", check=False).returncode == 0

    install = run_admin("site.yml", {"jupyterhub_venv_jupyterhub_version": CURRENT})
    assert install.returncode == 0, (install.stdout + install.stderr)[-4000:]
    restore = run_admin("restore.yml", {"jupyterhub_venv_backup_to": str(backup_dir)})
    assert restore.returncode == 0, (restore.stdout + restore.stderr)[-4000:]
    for target in targets:
        # Uninstall removed the self-signed certificate and the install made a new one:
        # a Target made afresh reads the new CA (Target.verify is cached).
        target = dataclasses.replace(target)
        cookie = target.exec("cat", "/var/lib/jupyterhub/jupyterhub_cookie_secret").stdout.strip()
        assert cookie == kept[target.container]["cookie"], "the cookie secret is not the one backed up"
        alice = logged_in(target, "alice")
        assert alice.user_model()["created"] == kept[target.container]["alice"], "alice's hub account was not restored"
        alice.spawn()
        assert target.exec("stat", "-c", "%a", "/var/lib/jupyterhub/jupyterhub.sqlite").stdout.strip() == "600"


def test_offboarding_stops_the_users_server_and_revokes_old_tokens(targets):
    """playbooks/offboard.yml: bob's token issued before stops working (locking his account
    alone would not stop it), his server stops; a second run changes nothing."""
    tokens = {}
    for target in targets:
        bob = logged_in(target, "bob", spawn=True)
        tokens[target.container] = bob.api_token()
        assert _as_token(target, tokens[target.container], "GET", "hub/api/user").status_code == 200
    run = run_admin("offboard.yml", {"jupyterhub_venv_offboard_user": "bob"})
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    again = run_admin("offboard.yml", {"jupyterhub_venv_offboard_user": "bob"})
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    for target in targets:
        assert recap(run, target.container)["changed"] > 0
        assert recap(again, target.container)["changed"] == 0, "a second offboarding changed something"
        token = tokens[target.container]
        assert _as_token(target, token, "GET", "hub/api/user").status_code == 403
        assert _as_token(target, token, "POST", "hub/api/users/bob/server").status_code == 403
        assert not target.pids("bob", "jupyterhub-singleuser"), "bob's server still runs"


def _as_token(target, token, method, path):
    return requests.request(method, target.url + path, headers={"Authorization": f"token {token}"},
                            timeout=30, verify=target.verify)
