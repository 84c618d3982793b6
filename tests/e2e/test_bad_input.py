"""Bad input is refused before anything changes.

On a converged host, the site playbook runs once per invalid setting: the play must fail,
the message must name the offending variable and say what is expected, and nothing the
collection manages may have changed (file checksums, modes and owners, install trees, the
state and main PID of our units, the nginx configuration).
"""

import concurrent.futures
import re

import pytest

from sitecli import diff, run_site, snapshot

pytestmark = pytest.mark.site_runs

CONDA = {"shared_env_manager": "conda"}

# (case id, extra vars, regexes the failure output must match: the variable, and what is expected)
CASES = [
    ("base-url-no-leading-slash", {"jupyterhub_base_url": "jupyter/"}, ["jupyterhub_base_url", "must start and end with '/'"]),
    ("base-url-with-space", {"jupyterhub_base_url": "/my hub/"}, ["jupyterhub_base_url", "must start and end with '/'"]),
    ("public-port-out-of-range", {"jupyterhub_public_port": 70000}, ["jupyterhub_public_port", "from 1 to 65535"]),
    ("public-port-not-a-number", {"jupyterhub_public_port": "eighty"}, ["jupyterhub_public_port", "from 1 to 65535"]),
    ("hub-port-zero", {"jupyterhub_hub_port": 0}, ["jupyterhub_hub_port", "from 1 to 65535"]),
    ("ports-equal", {"jupyterhub_hub_port": 8000}, ["jupyterhub_public_port", "must all be different ports"]),
    # A port nothing listens on yet: on 443 (nginx's) the hub's own check would say first that it is taken.
    ("api-port-equals-https-port", {"jupyterhub_proxy_api_port": 8443, "reverse_proxy_https_port": 8443},
     ["jupyterhub_proxy_api_port", "must all be different ports"]),
    ("renamed-setting", {"jupyterhub_venv_base_url": "/hub/"}, ["jupyterhub_venv_base_url is now jupyterhub_base_url"]),
    ("public-ip-not-an-address", {"jupyterhub_public_ip": "every-interface"}, ["jupyterhub_public_ip", "IP address"]),
    ("unknown-tls-mode", {"reverse_proxy_tls_mode": "letsencrypt"}, ["reverse_proxy_tls_mode", "self_signed, provided, acme, none"]),
    ("plain-http-with-secure-cookies", {"reverse_proxy_tls_mode": "none"}, ["reverse_proxy_tls_mode 'none'", "jupyterhub_https: false"]),
    ("firewall-port-out-of-range", {"jupyterhub_firewall": True, "firewall_allowed_tcp_ports": [443, 70000]},
     ["firewall_allowed_tcp_ports", "from 1 to 65535", "70000"]),
    ("provided-tls-without-cert", {"reverse_proxy_tls_mode": "provided"}, ["reverse_proxy_tls_cert", "absolute path"]),
    ("provided-tls-cert-missing", {"reverse_proxy_tls_mode": "provided", "reverse_proxy_tls_cert": "/etc/ssl/nowhere/hub.pem",
                                   "reverse_proxy_tls_key": "/etc/ssl/nowhere/hub.key"},
     ["reverse_proxy_tls_cert", "/etc/ssl/nowhere/hub.pem does not exist"]),
    ("acme-server-plain-http", {"reverse_proxy_tls_mode": "acme", "reverse_proxy_server_names": ["hub.example.org"],
                                "reverse_proxy_acme_email": "admin@example.org", "reverse_proxy_acme_server": "http://ca.example.org/dir"},
     ["reverse_proxy_acme_server", "https:// URL of an ACME directory"]),
    ("acme-ca-bundle-missing", {"reverse_proxy_tls_mode": "acme", "reverse_proxy_server_names": ["hub.example.org"],
                                "reverse_proxy_acme_email": "admin@example.org", "reverse_proxy_acme_ca_bundle": "/etc/ssl/nowhere/ca.pem"},
     ["reverse_proxy_acme_ca_bundle", "/etc/ssl/nowhere/ca.pem does not exist"]),
    ("nobody-could-log-in", {"jupyterhub_venv_allowed_users": [], "jupyterhub_venv_admin_users": [],
                             "jupyterhub_venv_allowed_groups": [], "jupyterhub_venv_allow_all": False},
     ["Nobody could log in", "jupyterhub_venv_allow_all"]),
    ("invalid-user-name", {"jupyterhub_venv_allowed_users": ["Alice Smith"]}, ["jupyterhub_venv_allowed_users", "not valid user names"]),
    ("invalid-group-name", {"jupyterhub_venv_allowed_groups": ["staff/all"]}, ["jupyterhub_venv_allowed_groups", "not valid group names"]),
    ("user-does-not-exist", {"jupyterhub_venv_admin_users": ["nosuchuser"]}, ["jupyterhub_venv_admin_users", "nosuchuser does not exist"]),
    ("invalid-kernel-name", {"shared_env_environments": [{"name": "py", "kernel_name": "my kernel", "display_name": "X"}]},
     ["shared_env_environments", "kernel names may hold only"]),
    ("kernel-named-python", {"shared_env_environments": [{"name": "py", "kernel_name": "python", "display_name": "X"}]},
     ["shared_env_environments", "may not be named 'python'"]),
    ("duplicate-environment-names", {"shared_env_environments": [{"name": "a", "display_name": "A"}, {"name": "a", "display_name": "B"}]},
     ["shared_env_environments", "each environment needs its own name"]),
    ("unknown-environment-manager", {"shared_env_manager": "pipenv"}, ["shared_env_manager", "conda, venv"]),
    ("packages-not-a-list", {"shared_env_environments": [{"name": "a", "display_name": "A", "packages": {"numpy": 1}}]},
     ["packages", "list"]),
    ("malformed-jupyterhub-version", {"jupyterhub_venv_jupyterhub_version": "latest"},
     ["jupyterhub_venv_jupyterhub_version", "release number such as"]),
    ("npm-registry-not-a-url", {"jupyterhub_venv_lab_npm_registry": "registry.example.org"},
     ["jupyterhub_venv_lab_npm_registry", "http(s) URL"]),
    ("malformed-proxy-version", {"http_proxy_version": "5"}, ["http_proxy_version", "one release such as"]),
    ("unknown-conda-source", dict(CONDA, conda_system_source="homebrew"), ["conda_system_source", "miniforge"]),
    ("malformed-sha256", dict(CONDA, conda_system_miniforge_sha256={"x86_64": "abc123", "aarch64": "abc123"}),
     ["conda_system_miniforge_sha256", "64 hex"]),
    ("malformed-upload-size", {"reverse_proxy_client_max_body_size": "lots"}, ["reverse_proxy_client_max_body_size", "nginx size"]),
    ("ban-time-zero", {"reverse_proxy_login_ban_time": 0}, ["reverse_proxy_login_ban_time", "number of seconds, 1 or more"]),
    ("negative-idle-timeout", {"jupyterhub_venv_idle_culler_timeout": -5}, ["jupyterhub_venv_idle_culler_timeout", "0 or more"]),
    ("malformed-memory-limit", {"jupyterhub_venv_spawner": "systemd", "jupyterhub_venv_mem_limit": "2 gigs"},
     ["jupyterhub_venv_mem_limit", "size as systemd takes it"]),
    ("limits-without-systemd-spawner", {"jupyterhub_venv_spawner": "local", "jupyterhub_venv_mem_limit": "2G"},
     ["jupyterhub_venv_mem_limit", "need jupyterhub_venv_spawner: systemd"]),
    ("slurm-without-partitions", {"jupyterhub_venv_spawner": "slurm"},
     ["jupyterhub_venv_slurm_partitions", "lists the partitions users may ask for", "got none"]),
    ("slurm-partition-malformed", {"jupyterhub_venv_spawner": "slurm", "jupyterhub_venv_slurm_partitions": [
        {"name": "cpu", "max_cpus": 2, "max_memory": "2 gigs", "max_time": 60}]},
     ["jupyterhub_venv_slurm_partitions", "such as 512M or 4G", "2 gigs"]),
    ("hub-connect-url-not-a-url", {"jupyterhub_venv_hub_connect_url": "hub.example.org:8081"},
     ["jupyterhub_venv_hub_connect_url", "an http(s) URL"]),
    ("hub-ip-not-an-address", {"jupyterhub_hub_ip": "hub.example.org"}, ["jupyterhub_hub_ip", "must be an IP address"]),
    ("hub-ip-old-name", {"jupyterhub_venv_hub_ip": "0.0.0.0"}, ["jupyterhub_venv_hub_ip is now jupyterhub_hub_ip"]),
    # With internal TLS, the nodes' servers call the hub over HTTPS, and their certificates name the nodes.
    ("slurm-tls-with-an-http-hub-url", {"jupyterhub_venv_spawner": "slurm", "jupyterhub_venv_slurm_partitions": [
        {"name": "cpu", "max_cpus": 2, "max_memory": "2G", "max_time": 60}],
        "jupyterhub_venv_hub_connect_url": "http://10.1.0.5:8081"},
     ["jupyterhub_venv_hub_connect_url must be an https URL with internal TLS", "jupyterhub_venv_slurm_node_names",
      "list the nodes in the inventory group jupyterhub_nodes"]),
    ("firewall-hub-from-not-a-network", {"jupyterhub_firewall": True, "firewall_hub_from": ["10.1.0.0"]},
     ["firewall_hub_from must list networks such as 10.1.0.0/24", "10.1.0.0"]),
    ("unprivileged-hub-with-systemd-spawner", {"jupyterhub_hub_user": "jupyterhub", "jupyterhub_venv_spawner": "systemd"},
     ["jupyterhub_hub_user: jupyterhub", "needs jupyterhub_venv_spawner: local"]),
    ("hub-account-not-a-system-account", {"jupyterhub_hub_user": "nobody", "jupyterhub_venv_spawner": "local"},
     ["jupyterhub_hub_user: nobody", "UID 65534"]),
    # The unprivileged hub's sudo rule would reach system accounts.
    ("unprivileged-hub-lets-everyone-in", {"jupyterhub_hub_user": "jupyterhub", "jupyterhub_venv_spawner": "local",
                                           "jupyterhub_venv_allow_all": True},
     ["jupyterhub_venv_allow_all: true with an unprivileged hub", "system accounts included"]),
    ("unprivileged-hub-with-a-system-account", {"jupyterhub_hub_user": "jupyterhub", "jupyterhub_venv_spawner": "local",
                                                "jupyterhub_venv_allowed_users": ["alice", "www-data"]},
     ["include root or system accounts", "www-data:33"]),
]


PARALLEL = 3  # refused runs are short; a few at once keep this test under two minutes


@pytest.fixture(scope="module")
def refused_runs(targets):
    """Every case run once on all hosts (a few cases at a time), between two snapshots."""
    before = {t.container: snapshot(t) for t in targets}
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        runs = dict(zip([c[0] for c in CASES], pool.map(lambda case: run_site(targets, case[1]), CASES)))
    after = {t.container: snapshot(t) for t in targets}
    return runs, {name: diff(before[name], after[name]) for name in before}


@pytest.mark.parametrize("case,expected", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_setting_is_refused_and_changes_nothing(targets, refused_runs, case, expected):
    runs, changes = refused_runs
    run = runs[case]
    output = run.stdout + run.stderr
    assert run.returncode != 0, f"the play accepted the setting:\n{output[-2000:]}"
    for target in targets:
        failure = "\n".join(line for line in output.splitlines()
                            if line.startswith((f"fatal: [{target.container}]", f"failed: [{target.container}]")))
        assert failure, f"{target.container} did not fail:\n{output[-3000:]}"
        for pattern in expected:
            assert re.search(re.escape(pattern), failure), f"{pattern!r} not in {target.container}'s failure:\n{failure[-3000:]}"
        recap = re.search(rf"^{re.escape(target.container)}\s+: .*", output, re.M)
        assert recap and "changed=0" in recap.group(0), f"the refused run reported changes: {recap and recap.group(0)}"
    # Nothing on the hosts moved, whatever case ran.
    for name, host_changes in changes.items():
        assert not host_changes, f"the refused runs changed {name}:\n" + "\n".join(host_changes[:40])
