# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""The rules that several roles, playbooks and modules check, each written once.

The collection's test plugins (``baremetal.jupyterhub.base_url``, ``.port``,
``.account_name``, ``.kernel_name``, ``.http_url``, ``.absolute_path``,
``.system_directory``, ``.octal_mode``, ``.ip_address``, ``.packages_installed``,
``.python_requirements_met``) and its modules call these functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import posixpath
import re

# "/" or "/a/b/": starts and ends with "/", path segments of URL-safe characters.
BASE_URL = re.compile(r"\A/([A-Za-z0-9._~-]+/)*\Z")
# A system user or group name as Debian's adduser accepts it, lower case (JupyterHub
# lower-cases names at login, so upper case could never log in).
ACCOUNT_NAME = re.compile(r"\A[a-z_][a-z0-9_.-]{0,31}\Z")
# LOW-HIGH, two port numbers.
PORT_RANGE = re.compile(r"\A[0-9]{1,5}-[0-9]{1,5}\Z")
# A kernel spec's directory name, as jupyter_client accepts it: its _kernel_name_pat is
# r"^[a-z0-9._\-]+$" with re.IGNORECASE, spelled out here because IGNORECASE would also let
# the Kelvin sign and the long s through.
KERNEL_NAME = re.compile(r"\A[A-Za-z0-9._-]+\Z")
# An http(s) URL: a scheme, a host (with an optional port) and an optional path, no spaces.
HTTP_URL = re.compile(r"\Ahttps?://[^/\s]+(/\S*)?\Z")
# A Debian package's name (Debian policy 5.6.1); anything else an apt task may be given (a
# version, an architecture, a pattern, a .deb file) is left to apt to decide.
DEB_NAME = re.compile(r"\A[a-z0-9][a-z0-9.+-]+\Z")
# pip arguments that make it upgrade or reinstall what is already there (-U, --upgrade,
# --force-reinstall, --upgrade-strategy, -I/--ignore-installed), alone or among short flags.
PIP_REINSTALLS = re.compile(r"(?:^|\s)(?:--upgrade|--force-reinstall|--upgrade-strategy|--ignore-installed|-[a-zA-Z]*[UI])")
# An absolute path on the managed host: no NUL, no line break.
ABSOLUTE_PATH = re.compile(r"\A/[^\0\n\r]*\Z")
# A file mode as chmod takes it, three octal digits with an optional leading 0 ("0750", "750").
OCTAL_MODE = re.compile(r"\A0?[0-7]{3}\Z")
# A Slurm partition's name, and a memory size as sbatch --mem takes it (MiB, or M/G).
SLURM_NAME = re.compile(r"\A[A-Za-z0-9_.-]+\Z")
SLURM_MEMORY = re.compile(r"\A[1-9][0-9]*[MGmg]?\Z")
# Directories the operating system owns: a role never makes one of them its own tree (its
# owner, mode or contents), whatever else its variables say.
SYSTEM_DIRECTORIES = frozenset([
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
    "/usr/include", "/usr/lib", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/local/lib",
    "/usr/local/share", "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/cache", "/var/lib",
    "/var/local", "/var/log", "/var/opt", "/var/spool", "/var/tmp",
])


def is_base_url(value):
    """A URL path prefix: "/" or "/jupyter/"."""
    return isinstance(value, str) and BASE_URL.match(value) is not None


def is_port(value):
    """A TCP port number, 1 to 65535, as an int or a string of digits (not a bool)."""
    return is_positive_int(value) and int(value) <= 65535


def is_port_range(value):
    """LOW-HIGH, two unprivileged ports (1024 to 65535), LOW not above HIGH: where users'
    servers listen on compute nodes (the role's runtime reads it with port_range())."""
    if not isinstance(value, str) or PORT_RANGE.match(value) is None:
        return False
    low, high = (int(part) for part in value.split("-"))
    return 1024 <= low <= high <= 65535


def is_positive_int(value):
    """A whole number, 1 or more, as an int or a string of digits (not a bool): a count or a
    number of seconds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 1
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value) >= 1
    return False


def is_account_name(value):
    """A user or group name that can log in to JupyterHub through PAM."""
    return isinstance(value, str) and ACCOUNT_NAME.match(value) is not None


def is_kernel_name(value):
    """A kernel name: ASCII letters, digits, '-', '.' and '_'; not '.' or '..'."""
    return isinstance(value, str) and KERNEL_NAME.match(value) is not None and value not in (".", "..")


def is_http_url(value):
    """An http:// or https:// URL with a host: a download, a registry, a proxy's target."""
    return isinstance(value, str) and HTTP_URL.match(value) is not None


def is_absolute_path(value):
    """An absolute path: starts with "/", no NUL or line break."""
    return isinstance(value, str) and ABSOLUTE_PATH.match(value) is not None


def is_system_directory(value):
    """One of the directories the operating system owns ("/usr", "/home/", "//etc"; normalized
    before the comparison), which a role must never take over."""
    return is_absolute_path(value) and posixpath.normpath("/" + value.lstrip("/")) in SYSTEM_DIRECTORIES


def is_ip_address(value):
    """An IPv4 or IPv6 address to listen on or to connect to ("127.0.0.1", "0.0.0.0", "::1"),
    not a host name."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_octal_mode(value):
    """A file mode of three octal digits, with an optional leading 0, as a string or a number
    that reads so (750); 0750 unquoted in YAML is the number 488 and does not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        value = str(value)
    return isinstance(value, str) and OCTAL_MODE.match(value) is not None


def is_slurm_partition(value):
    """A partition the slurm spawner's form offers, with the most a user may ask of it:
    {name, max_cpus (1 or more), max_memory (such as 512M, 4G), max_time (minutes, 1 or more),
    max_gpus (0 or more, optional)} and nothing else."""
    if not isinstance(value, dict) or not {"name", "max_cpus", "max_memory", "max_time"} <= set(value):
        return False
    if set(value) - {"name", "max_cpus", "max_memory", "max_time", "max_gpus"}:
        return False
    gpus = value.get("max_gpus", 0)
    return (
        isinstance(value["name"], str) and bool(SLURM_NAME.match(value["name"]))
        and is_positive_int(value["max_cpus"]) and is_positive_int(value["max_time"])
        and isinstance(value["max_memory"], str) and bool(SLURM_MEMORY.match(value["max_memory"]))
        and (gpus in (0, "0") or is_positive_int(gpus))
    )


def are_packages_installed(names, packages):
    """True when every one of names (a package name or a list of them) is installed according
    to ``packages``, the package facts (in ``ansible_facts.packages``' shape, read once per play).
    A name that is not a plain package name (``nginx=1.22*``, ``nginx:amd64``, ``./x.deb``)
    counts as not installed: apt decides. A role's package task runs only when this is False,
    since apt costs about a second a task even when it has nothing to do."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(packages, dict):
        return False
    return all(isinstance(n, str) and DEB_NAME.match(n) is not None and bool(packages.get(n)) for n in names)


def are_python_requirements_met(requirements, installed, pip_args=""):
    """True when every one of requirements (pip's, such as ``jupyterhub==5.3.0`` or ``wheel``)
    is met by ``installed``, what a Python environment has (``{distribution name: version}``,
    read once per run), the way pip would find them already satisfied. A requirement pip
    must interpret (a URL, a path, extras, an environment marker) or a version that is not
    PEP 440 counts as not met: pip decides. So do all of them when ``pip_args`` (the extra
    arguments the pip task passes) ask pip to upgrade or reinstall what is there. A role's pip
    task runs only when this is False, as pip costs seconds a task even when everything is
    installed."""
    # Controller side only (test plugins): ansible-core requires packaging.
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    if isinstance(requirements, str):
        requirements = [requirements]
    if not isinstance(installed, dict):
        return False
    if PIP_REINSTALLS.search(str(pip_args or "")):
        return False
    have = {re.sub(r"[-_.]+", "-", str(name)).lower(): version for name, version in installed.items()}
    for text in requirements:
        try:
            req = Requirement(str(text))
        except InvalidRequirement:
            return False
        version = have.get(re.sub(r"[-_.]+", "-", req.name).lower())
        if version is None or req.url or req.extras or req.marker:
            return False
        try:
            if not req.specifier.contains(Version(str(version)), prereleases=True):
                return False
        except InvalidVersion:
            return False
    return True
