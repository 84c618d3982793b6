# -*- coding: utf-8 -*-
# Copyright: contributors to baremetal.jupyterhub
# BSD 3-Clause License (see galaxy.yml)
"""A small runner for conda, mamba and micromamba: find the executable, run it with a C
locale, parse its JSON output, and turn its errors into clear messages.

How the tools report (checked against conda 24-26 and mamba 2 sources, and recorded outputs
under tests/unit/fixtures/conda/):

* conda with ``--json`` prints one JSON document on stdout. On errors it prints the error's
  ``dump_map()`` (keys ``exception_name``, ``message``, ``error``, ...) on stdout and exits 1
  (``conda/exceptions.py: print_conda_exception``). Post-link scripts may print plain lines
  before the document.
* mamba 2 / micromamba print their error as ``critical libmamba <message>`` on stderr, with
  ``error libmamba ...`` lines before it that explain a failed solve.

This module runs on the managed host: Python 3.8+ and the standard library only.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda_ask import HELPER, conda_python, request

# Tried in order when no executable is given.
DEFAULT_CANDIDATES = ("/opt/conda/bin/conda", "/opt/conda/bin/mamba")
PATH_CANDIDATES = ("conda", "mamba", "micromamba")

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}

# exception_name (conda, its plugins and conda-libmamba-solver) -> what went wrong
ERROR_KINDS = (
    (("PackagesNotFoundError", "PackagesNotFoundInChannelsError", "PackagesNotFoundInPrefixError",
      "PackageNotFoundError", "ResolvePackageNotFound", "NoPackagesFoundError",
      "PackageNotInstalledError"), "package not found"),
    (("EnvironmentLocationNotFound", "EnvironmentNameNotFound", "DirectoryNotACondaEnvironmentError",
      "CondaEnvironmentNotFoundError"), "environment not found"),
    (("UnsatisfiableError", "LibMambaUnsatisfiableError", "SpecsConfigurationConflictError",
      "RawStrUnsatisfiableError"), "unsatisfiable specs"),
    (("UnavailableInvalidChannel", "CondaHTTPError", "ChannelError", "ChannelNotAllowed",
      "CondaSSLError", "ProxyError", "OfflineError", "NoChannelsConfiguredError",
      "NoChannelsError"), "channel unreachable, invalid or not configured"),
    (("EnvironmentFileNotFound", "EnvironmentFileEmpty", "EnvironmentFileExtensionNotValid",
      "SpecNotFound", "CondaEnvException"), "environment file problem"),
    (("InvalidMatchSpec", "InvalidVersionSpec", "InvalidSpec"), "invalid package spec"),
)

HINTS = {
    "terms of service not accepted": (
        "Accept the channel's terms on the host (conda tos accept --override-channels "
        "--channel URL) or use channels without terms (e.g. channels: [conda-forge] with "
        "override_channels: true)."
    ),
    "channel unreachable, invalid or not configured": (
        "Check the channel names, the network/proxy settings of the host and its .condarc."
    ),
}


def is_environment(prefix):
    """A prefix is a conda environment when PREFIX/conda-meta/history exists (conda's rule)."""
    return os.path.isfile(os.path.join(prefix, "conda-meta", "history"))


def _is_executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def tool_kind(executable):
    """'conda', 'mamba' or 'micromamba', from the executable's file name."""
    base = os.path.basename(executable)
    if base.startswith("micromamba"):
        return "micromamba"
    if base.startswith("mamba"):
        return "mamba"
    return "conda"


def find_executable(module, wanted=None):
    """Return the path of the conda-like executable to use, or fail with what was tried."""
    if wanted:
        if os.sep in wanted:
            if _is_executable(wanted):
                return wanted
            module.fail_json(msg="conda executable %s does not exist or is not executable" % wanted)
        found = module.get_bin_path(wanted)
        if found:
            return found
        module.fail_json(msg="conda executable %s not found on PATH" % wanted)
    for candidate in DEFAULT_CANDIDATES:
        if _is_executable(candidate):
            return candidate
    for name in PATH_CANDIDATES:
        found = module.get_bin_path(name)
        if found:
            return found
    module.fail_json(
        msg="no conda executable found: looked for %s and for %s on PATH; install conda "
            "(e.g. the conda_system role) or set executable"
            % (", ".join(DEFAULT_CANDIDATES), ", ".join(PATH_CANDIDATES)))
    return None  # not reached


def parse_json(text):
    """The JSON document in a tool's stdout; lines printed before it are skipped."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "{[" and (index == 0 or text[index - 1] == "\n"):
            try:
                return decoder.raw_decode(text[index:])[0]
            except ValueError:
                continue
    raise ValueError("no JSON document in the output")


def error_kind(exception_name):
    if exception_name.startswith("CondaToS"):
        return "terms of service not accepted"
    if exception_name.startswith("PackagesNotFound"):  # and its subclasses in newer conda versions
        return "package not found"
    for names, kind in ERROR_KINDS:
        if exception_name in names:
            return kind
    return None


def libmamba_error(stderr):
    """(kind, text) from mamba 2 / micromamba 'critical libmamba' / 'error libmamba' lines."""
    lines = (stderr or "").splitlines()
    critical = [line for line in lines if line.startswith("critical") and "libmamba" in line]
    if not critical:
        return None, None
    start = next(i for i, line in enumerate(lines) if line.startswith(("error", "critical")))
    text = "\n".join(lines[start:]).strip()
    lowered = text.lower()
    if "does not exist (perhaps a typo or a missing channel)" in lowered or "nothing provides requested" in lowered:
        kind = "package not found"
    elif "could not solve" in lowered:
        kind = "unsatisfiable specs"
    elif "terms of service" in lowered:
        kind = "terms of service not accepted"
    elif "prefix" in lowered and ("not found" in lowered or "does not exist" in lowered or "not a conda" in lowered):
        kind = "environment not found"
    elif any(word in lowered for word in ("download", "http", "ssl", "resolve host", "repodata", "channel")):
        kind = "channel unreachable, invalid or not configured"
    else:
        kind = None
    return kind, text


class CondaError(Exception):
    """A failed tool run, with everything fail_json should report."""

    def __init__(self, msg, cmd, rc, stdout, stderr, data=None):
        super().__init__(msg)
        self.msg = msg
        self.result = dict(cmd=cmd, rc=rc, stdout=stdout, stderr=stderr)
        if isinstance(data, dict) and data.get("exception_name"):
            self.result["exception_name"] = data["exception_name"]


class CondaRunner:
    """Runs one conda-like executable for a module and remembers the commands it ran."""

    def __init__(self, module, executable):
        self.module = module
        self.executable = executable
        self.kind = tool_kind(executable)
        self.commands = []

    def run(self, *args):
        """Run the tool with args; return its JSON document; raise CondaError on failure."""
        cmd = [self.executable] + [str(arg) for arg in args]
        self.commands.append(cmd)
        rc, out, err = self.module.run_command(cmd, environ_update=dict(C_LOCALE))
        try:
            data = parse_json(out)
        except ValueError:
            data = None
            if rc == 0:
                raise CondaError("%s returned output that is not JSON" % self._what(cmd), cmd, rc, out, err)
        failed = rc != 0 or (isinstance(data, dict) and (data.get("exception_name") or data.get("success") is False))
        if failed:
            raise CondaError(self.describe_failure(cmd, rc, err, data), cmd, rc, out, err, data)
        return data

    def _what(self, cmd):
        words = cmd[1:3] if cmd[1:2] == ["env"] else cmd[1:2]
        return " ".join([os.path.basename(self.executable)] + words)

    def describe_failure(self, cmd, rc, stderr, data):
        """One message that names the problem and includes the tool's own message."""
        what = self._what(cmd)
        if isinstance(data, dict) and data.get("exception_name"):
            name = data["exception_name"]
            kind = error_kind(name) or "error"
            packages = data.get("packages") or data.get("bad_deps")
            if isinstance(packages, list) and packages:
                # the names first: conda's message puts them after a long preamble
                kind = "%s: %s" % (kind, ", ".join(str(package) for package in packages))
            text = (data.get("message") or data.get("error") or "").strip()
            return self._compose(what, kind, "%s: %s" % (name, text) if text else name)
        kind, text = libmamba_error(stderr)
        if text:
            return self._compose(what, kind or "error", text)
        tail = "\n".join((stderr or "").strip().splitlines()[-20:])
        return self._compose(what, "error", "rc=%s%s" % (rc, (": " + tail) if tail else ""))

    @staticmethod
    def _compose(what, kind, detail):
        msg = "%s failed: %s. %s" % (what, kind, detail)
        hint = HINTS.get(kind)
        return msg + ("\n" + hint if hint else "")

    # -- the commands this collection uses ------------------------------------------------
    def info(self):
        return self.run("info", "--json") or {}

    def envs_dirs(self, info):
        """envs dirs from `info --json`: 'envs_dirs' (conda) or 'envs directories' (mamba 2)."""
        dirs = info.get("envs_dirs") or info.get("envs directories") or []
        return [dirs] if isinstance(dirs, str) else list(dirs)

    @staticmethod
    def root_prefix(info):
        return info.get("root_prefix") or info.get("base environment")

    def list_installed(self, prefix):
        """Installed conda packages: pip-installed records (channel pypi) are dropped."""
        return self.list_records(prefix)[0]

    def list_records(self, prefix):
        """(conda records, {pip-installed name: version}) from `list --json`."""
        data = self.run("list", "--prefix", prefix, "--json")
        records = data.get("packages", []) if isinstance(data, dict) else (data or [])
        records = [rec for rec in records if isinstance(rec, dict)]
        pip = dict((rec.get("name"), str(rec.get("version", ""))) for rec in records if is_pip_record(rec))
        return [normalize_record(rec) for rec in records if not is_pip_record(rec)], pip

    def ask_conda(self, prefix, specs, pip_specs=(), pip_installed=None):
        """conda's own answer (conda_ask.HELPER run by the Python next to the executable) to which
        specs are satisfied in prefix, or None when there is no such Python or it has no conda
        (micromamba, a mamba without conda): then the caller decides with the port."""
        python = conda_python(self.executable)
        if not _is_executable(python):
            return None
        cmd = [python, "-I", "-c", HELPER]
        self.commands.append(cmd)
        rc, out, err = self.module.run_command(cmd, data=request(prefix, specs, pip_specs, pip_installed),
                                               environ_update=dict(C_LOCALE))
        try:
            answer = parse_json(out) if rc == 0 else None
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "conda" in answer and not answer["conda"]:
            return None  # that Python cannot import conda
        if not isinstance(answer, dict) or not (answer.get("invalid") or isinstance(answer.get("specs"), list)):
            self.module.warn("%s could not tell which specs are satisfied (rc=%s): %s; deciding without it"
                             % (python, rc, (err or out or "").strip()[-400:]))
            return None
        return answer


def is_pip_record(record):
    """conda (and mamba 2) list pip-installed packages as channel 'pypi', build 'pypi_0';
    conda's --no-pip does not remove them, so they are dropped here."""
    build = record.get("build_string", record.get("build"))
    return record.get("channel") == "pypi" or build == "pypi_0"


def normalize_record(record):
    """name/version/build/build_number/channel/subdir/base_url from a list or action record."""
    if isinstance(record, str):
        return parse_dist_string(record)
    return {
        "name": record.get("name"),
        "version": str(record.get("version", "")),
        "build": record.get("build_string", record.get("build", "")),
        "build_string": record.get("build_string", record.get("build", "")),
        "build_number": record.get("build_number"),
        "channel": record.get("channel"),
        "subdir": record.get("subdir", record.get("platform")),
        "base_url": record.get("base_url"),
    }


def parse_dist_string(text):
    """'channel::name-version-build' (older conda's action strings) as a record."""
    channel, _sep, dist = text.split()[0].rpartition("::")
    name, version, build = (dist.rsplit("-", 2) + ["", ""])[:3]
    return {"name": name, "version": version, "build": build, "build_string": build,
            "build_number": None, "channel": channel or None, "subdir": None, "base_url": None}


_PIP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pip_name(spec):
    """The canonical project name a pip requirement names (PEP 503), or None (a URL, an option)."""
    found = _PIP_NAME.match(spec)
    if not found or "://" in spec or spec.lstrip().startswith("-"):
        return None
    return re.sub(r"[-_.]+", "-", found.group(1)).lower()


_SIMPLE_PIP = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([A-Za-z0-9.+!_-]+))?\s*$")


def simple_pip(spec):
    """NAME or NAME==VERSION: the pip specs the module compares itself without conda's Python."""
    return bool(_SIMPLE_PIP.match(spec))


def pip_satisfied(spec, installed):
    """Without conda's Python: only ``name`` and ``name==version`` are checked; anything else
    counts as not satisfied (pip decides when it runs)."""
    found = _SIMPLE_PIP.match(spec)
    if not found:
        return False
    versions = dict((pip_name(name), version) for name, version in installed.items())
    version = versions.get(pip_name(found.group(1)))
    return version is not None and (found.group(2) is None or found.group(2) == version)


def pip_lines(installed):
    return ["%s==%s (pip)" % (name, version) for name, version in installed.items()]


def record_line(record):
    """'name==version=build' (the form used in diffs and in the result's actions)."""
    return "%s==%s=%s" % (record.get("name"), record.get("version"), record.get("build"))


def public_record(record):
    return {key: record.get(key) for key in ("name", "version", "build", "channel")}


def transaction(data):
    """{'LINK': [records], 'UNLINK': [records]} from a create/install/remove/update JSON result.

    conda prints ``actions`` as a dict (or a list of dicts, one per prefix);
    'All requested packages already installed' results have no actions at all.
    """
    actions = (data or {}).get("actions") if isinstance(data, dict) else None
    groups = actions if isinstance(actions, list) else [actions or {}]
    result = {"LINK": [], "UNLINK": [], "PIP": []}
    for group in groups:
        if not isinstance(group, dict):
            continue
        for key in ("LINK", "UNLINK"):
            result[key].extend(normalize_record(rec) for rec in group.get(key) or [])
        # env create/update: what pip installed, as 'name-version' strings (conda 26)
        result["PIP"].extend(str(item) for item in group.get("PIP") or [])
    return result


def apply_transaction(before, actions):
    """The package list after actions, for check mode and diffs."""
    unlinked = set((rec["name"], rec["version"], rec["build"]) for rec in actions["UNLINK"])
    linked_names = set(rec["name"] for rec in actions["LINK"])
    after = [rec for rec in before
             if (rec["name"], rec["version"], rec["build"]) not in unlinked and rec["name"] not in linked_names]
    return sorted(after + list(actions["LINK"]), key=lambda rec: rec["name"] or "")


def parse_dependency_string(text):
    """'conda-forge/linux-64::python==3.12.1=hab00c5b_1_cpython' (the dependencies that
    ``conda env create --dry-run --json`` prints in conda 24 to 26.6) as a record."""
    channel, _sep, rest = text.rpartition("::")
    name, sep, version_build = rest.partition("==")
    if not sep:
        name, _sep, version_build = rest.partition("=")
    version, _sep, build = version_build.partition("=")
    subdir = None
    if "/" in channel:
        head, _slash, tail = channel.rpartition("/")
        if "-" in tail or tail == "noarch":
            channel, subdir = head, tail
    return {"name": name, "version": version, "build": build, "build_string": build,
            "build_number": None, "channel": channel or None, "subdir": subdir, "base_url": None}
