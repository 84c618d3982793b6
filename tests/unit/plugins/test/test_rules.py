"""The shared rules, through the test plugins the roles call them by."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.test.rules import TestModule as RulesTestModule

TESTS = RulesTestModule().tests()

CASES = [
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G", "max_time": 480}, True),
    ("slurm_partition", {"name": "gpu.a100", "max_cpus": "8", "max_memory": "32768", "max_time": 60, "max_gpus": 2}, True),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G", "max_time": 480, "max_gpus": 0}, True),
    ("slurm_partition", {"name": "cpu", "max_cpus": 0, "max_memory": "8G", "max_time": 480}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8 GB", "max_time": 480}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "0", "max_time": 480}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G", "max_time": "8:00:00"}, False),
    ("slurm_partition", {"name": "cpu,gpu", "max_cpus": 4, "max_memory": "8G", "max_time": 480}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G"}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G", "max_time": 480, "max_gpus": -1}, False),
    ("slurm_partition", {"name": "cpu", "max_cpus": 4, "max_memory": "8G", "max_time": 480, "qos": "high"}, False),
    ("slurm_partition", "cpu", False),
    ("base_url", "/", True),
    ("base_url", "/jupyter/", True),
    ("base_url", "/a/b.c~d_e-f/", True),
    ("base_url", "jupyter/", False),
    ("base_url", "/jupyter", False),
    ("base_url", "/my hub/", False),
    ("base_url", "//", False),
    ("base_url", "/jupyter/\n", False),
    ("base_url", "/ä/", False),
    ("base_url", None, False),
    ("port_range", "50000-50999", True),
    ("port_range", "1024-1024", True),
    ("port_range", "1023-2000", False),
    ("port_range", "50999-50000", False),
    ("port_range", "50000-65536", False),
    ("port_range", "50000", False),
    ("port_range", " 50000-50999", False),
    ("port_range", 50000, False),
    ("port", 1, True),
    ("port", 65535, True),
    ("port", "8000", True),
    ("port", 0, False),
    ("port", 65536, False),
    ("port", 70000, False),
    ("port", "eighty", False),
    ("port", "80 ", False),
    ("port", "-1", False),
    ("port", "٨٠", False),  # Arabic-Indic digits: str.isdigit() is true for them
    ("port", True, False),
    ("port", 80.0, False),
    ("positive_int", 1, True),
    ("positive_int", "600", True),
    ("positive_int", 100000, True),
    ("positive_int", 0, False),
    ("positive_int", "0", False),
    ("positive_int", -5, False),
    ("positive_int", "10s", False),
    ("positive_int", "1.5", False),
    ("positive_int", "٣", False),
    ("positive_int", True, False),
    ("positive_int", 2.0, False),
    ("account_name", "alice", True),
    ("account_name", "_svc", True),
    ("account_name", "a.b-c_d9", True),
    ("account_name", "a" * 32, True),
    ("account_name", "a" * 33, False),
    ("account_name", "Alice", False),
    ("account_name", "Alice Smith", False),
    ("account_name", "staff/all", False),
    ("account_name", "9lives", False),
    ("account_name", "alice\n", False),
    ("account_name", "", False),
    ("kernel_name", "python3", True),
    ("kernel_name", "My.Kernel_2-b", True),
    ("kernel_name", "my kernel", False),
    ("kernel_name", ".", False),
    ("kernel_name", "..", False),
    ("kernel_name", "\u212a", False),  # the Kelvin sign, which re.IGNORECASE takes for k
    ("kernel_name", "py\n", False),
    ("kernel_name", "", False),
    ("http_url", "https://registry.npmjs.org/", True),
    ("http_url", "http://127.0.0.1:8000", True),
    ("http_url", "https://repo.example.org/conda/x86_64?x=1", True),
    ("http_url", "ftp://example.org/", False),
    ("http_url", "https://", False),
    ("http_url", "https:///path", False),
    ("http_url", "https://example.org/a b", False),
    ("http_url", "example.org", False),
    ("http_url", "https://example.org/\n", False),
    ("http_url", None, False),
    ("absolute_path", "/opt/conda", True),
    ("absolute_path", "/", True),
    ("absolute_path", "opt/conda", False),
    ("absolute_path", "~/envs", False),
    ("absolute_path", "/opt/x\n", False),
    ("absolute_path", "/opt/\0x", False),
    ("absolute_path", "", False),
    ("absolute_path", None, False),
    ("system_directory", "/", True),
    ("system_directory", "/home", True),
    ("system_directory", "/usr/local/", True),
    ("system_directory", "//etc", True),
    ("system_directory", "/var/lib/", True),
    ("system_directory", "/opt/../usr", True),
    ("system_directory", "/srv/shared", False),
    ("system_directory", "/opt/conda", False),
    ("system_directory", "/home/alice", False),
    ("system_directory", "usr", False),
    ("system_directory", None, False),
    ("octal_mode", "0750", True),
    ("octal_mode", "750", True),
    ("octal_mode", 750, True),
    ("octal_mode", "0755", True),
    ("octal_mode", 488, False),  # 0750 unquoted in YAML
    ("octal_mode", "0758", False),
    ("octal_mode", "00750", False),
    ("octal_mode", "u=rwx", False),
    ("octal_mode", "", False),
    ("octal_mode", True, False),
    ("ip_address", "127.0.0.1", True),
    ("ip_address", "0.0.0.0", True),
    ("ip_address", "::1", True),
    ("ip_address", "10.0.0.5", True),
    ("ip_address", "999.1.1.1", False),
    ("ip_address", "localhost", False),
    ("ip_address", "every-interface", False),
    ("ip_address", "127.0.0.1 ", False),
    ("ip_address", "", False),
    ("ip_address", None, False),
]


@pytest.mark.parametrize("test, value, expected", CASES, ids=[f"{case[0]}-{case[1]!r}" for case in CASES])
def test_rule(test, value, expected):
    assert TESTS[test](value) is expected


# ansible_facts.packages as package_facts (apt manager) gathered it on Debian 12.
PACKAGES = {
    "nginx": [{"name": "nginx", "version": "1.22.1-9+deb12u3", "arch": "amd64", "source": "apt"}],
    "python3-venv": [{"name": "python3-venv", "version": "3.11.2-1+b1", "arch": "amd64", "source": "apt"}],
}


@pytest.mark.parametrize("names, packages, expected", [
    (["nginx", "python3-venv"], PACKAGES, True),
    ("nginx", PACKAGES, True),
    ([], PACKAGES, True),
    (["nginx", "fail2ban"], PACKAGES, False),
    (["nginx=1.22.1-9+deb12u3"], PACKAGES, False),  # a version: apt decides
    (["nginx:amd64"], PACKAGES, False),
    (["nginx*"], PACKAGES, False),
    (["/tmp/nginx.deb"], PACKAGES, False),
    (["nginx"], {}, False),
    (["nginx"], None, False),  # no facts gathered
    (["nginx"], {"nginx": []}, False),
])
def test_packages_installed(names, packages, expected):
    assert TESTS["packages_installed"](names, packages) is expected


# What the hub's venv had, as the roles read it (importlib.metadata, Python 3.11).
DISTS = {"jupyterhub": "5.3.0", "jupyterlab": "4.4.10", "Jupyter_Server": "2.17.0", "wheel": "0.45.1",
         "ipykernel": "7.0.0rc1", "odd": "not-a-version"}


@pytest.mark.parametrize("requirements, installed, expected", [
    (["wheel", "jupyterhub==5.3.0", "jupyterlab==4.4.10"], DISTS, True),
    ("jupyterhub>=5,<6", DISTS, True),
    (["jupyter-server==2.17.0"], DISTS, True),  # names compare as pip compares them
    (["jupyter.server>=2"], DISTS, True),
    (["ipykernel>=7.0.0rc1"], DISTS, True),  # pre-releases count, as installed
    ([], DISTS, True),
    (["jupyterhub==5.3.1"], DISTS, False),
    (["jupyterhub!=5.3.0"], DISTS, False),
    (["ipywidgets"], DISTS, False),
    (["jupyterhub[extra]==5.3.0"], DISTS, False),  # extras: pip decides
    (["jupyterhub==5.3.0; python_version>'3'"], DISTS, False),  # markers: pip decides
    (["jupyterhub @ https://example.org/jupyterhub-5.3.0.tar.gz"], DISTS, False),
    (["/srv/wheels/jupyterhub-5.3.0.whl"], DISTS, False),
    (["-e git+https://example.org/x.git"], DISTS, False),
    (["odd>=1"], DISTS, False),
    (["wheel"], None, False),
])
def test_python_requirements_met(requirements, installed, expected):
    assert TESTS["python_requirements_met"](requirements, installed) is expected


@pytest.mark.parametrize("pip_args, expected", [
    ("", True),
    (None, True),
    ("--index-url https://pypi.example.org/simple", True),
    ("--no-cache-dir -q", True),
    ("--upgrade", False),
    ("-U", False),
    ("-qU", False),
    ("--index-url https://pypi.example.org/simple --force-reinstall", False),
    ("--upgrade-strategy eager", False),
    ("-I", False),
])
def test_python_requirements_are_left_to_pip_when_it_must_upgrade_or_reinstall(pip_args, expected):
    assert TESTS["python_requirements_met"](["jupyterhub==5.3.0"], DISTS, pip_args) is expected
