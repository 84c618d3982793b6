"""Kernels: the shared environments as kernels every allowed user can run and nobody can
change, and a user's own kernel that only that user sees.

The default scenario's inventory makes two shared venvs under /opt/jupyter-envs: "python",
registered as the kernel "python3" (so it takes the place of the hub venv's own kernel),
and "course"; and it registers a kernel "mine" for alice from ~alice/envs/mine.
"""

import pytest

from hub import Kernel, logged_in

SHARED = {"python3": "/opt/jupyter-envs/python", "course": "/opt/jupyter-envs/course"}
OWN_KERNEL, OWN_PREFIX = "mine", "/home/alice/envs/mine"


@pytest.fixture(scope="module")
def alice(target):
    return logged_in(target, "alice", spawn=True)


@pytest.fixture(scope="module")
def bob(target):
    return logged_in(target, "bob", spawn=True)


def kernelspecs(session):
    r = session.api("GET", f"user/{session.user}/api/kernelspecs")
    assert r.status_code == 200, r.status_code
    return r.json()


def test_shared_kernels_are_offered_in_place_of_the_hub_kernel(alice):
    specs = kernelspecs(alice)
    names = set(specs["kernelspecs"])
    assert set(SHARED) <= names, names
    python3 = specs["kernelspecs"]["python3"]["spec"]
    assert python3["display_name"] == "Python (default)"
    assert python3["argv"][0] == SHARED["python3"] + "/bin/python", "python3 is still the hub venv's kernel"
    assert specs["default"] == "python3", specs["default"]


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_kernel_runs_code_in_its_environment(alice, name):
    kernel = Kernel(alice, name)
    try:
        out = kernel.execute("import sys; print(sys.prefix)")
        assert out.strip() == SHARED[name]
        assert kernel.execute("print(6 * 7)").strip() == "42"
    finally:
        kernel.shutdown()


@pytest.mark.parametrize("prefix", sorted(SHARED.values()))
def test_users_cannot_change_a_shared_environment(target, prefix):
    r = target.exec("runuser", "-u", "alice", "--", f"{prefix}/bin/python", "-m", "pip", "install",
                    "--no-cache-dir", "six", check=False)
    assert r.returncode != 0, "a user's pip install into the shared environment succeeded"
    assert "Permission denied" in r.stderr or "Errno 13" in r.stderr, r.stderr[-800:]
    assert target.exec("runuser", "-u", "alice", "--", f"{prefix}/bin/python", "-c", "import six",
                       check=False).returncode != 0
    r = target.exec("runuser", "-u", "alice", "--", f"{prefix}/bin/python", "-c",
                    "import sysconfig, os, sys; d = sysconfig.get_paths()['purelib']; "
                    "print(os.access(d, os.W_OK)); open(os.path.join(d, 'x.pth'), 'w')", check=False)
    assert r.returncode != 0 and r.stdout.strip() == "False", (r.stdout, r.stderr)
    assert "PermissionError" in r.stderr
    writable = target.exec("find", prefix, "-perm", "/022", "-not", "-type", "l", "-print", "-quit").stdout
    assert writable == "", f"writable by group or others: {writable}"


def test_users_own_kernel_is_theirs_alone(alice, bob):
    assert OWN_KERNEL in kernelspecs(alice)["kernelspecs"]
    assert OWN_KERNEL not in kernelspecs(bob)["kernelspecs"]
    kernel = Kernel(alice, OWN_KERNEL)
    try:
        assert kernel.execute("import sys; print(sys.prefix)").strip() == OWN_PREFIX
    finally:
        kernel.shutdown()
