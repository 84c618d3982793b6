# -*- coding: utf-8 -*-
# Copyright: contributors to baremetal.jupyterhub
# BSD 3-Clause License (see galaxy.yml)
"""conda match specs: parse them and test them against an installed package record.

The parsing rules follow conda's ``conda/models/match_spec.py`` (``_parse_spec_str``,
``_parse_version_plus_build``, ``_sanitize_version_str`` and the ``*Match`` classes) and the
documentation page "Package match specifications"; the examples in
tests/unit/plugins/module_utils/conda_matchspec_cases.yml come from there and from conda's
tests/models/test_match_spec.py. Supported forms::

    numpy                      any version
    numpy=1.11                 1.11, 1.11.0, 1.11.18 ... not 1.110 (prefix match on components)
    numpy==1.11                exactly 1.11 (== 1.11.0)
    numpy 1.11.*  numpy=1.11.*  "numpy>=1.8,<2"  "numpy 1.8|1.8*"  numpy~=1.10
    numpy=1.11.2=*nomkl*       third '=' part (or third space part) is the build string (glob)
    conda-forge::numpy         channel (name, URL, or channel/subdir)
    numpy[version='>=1.8', build=py27*, build_number='>=7', channel=conda-forge, subdir=linux-64]

A record is a dict as printed by ``conda list --json`` / ``mamba list --json``: name, version,
build_string (or build), build_number, channel, base_url, platform (or subdir).

Package files and URLs of package files (``./pkg-1.0-0.conda``) are not supported here.
This module runs on the managed host: Python 3.8+ and the standard library only.
"""

from __future__ import annotations

import re

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda_version import (
    BuildNumberMatch,
    InvalidVersionSpec,
    VersionSpec,
)

__all__ = ["InvalidMatchSpec", "MatchSpec"]

FIELD_NAMES = (
    "channel", "subdir", "name", "version", "build", "build_number", "track_features",
    "features", "url", "md5", "sha256", "license", "license_family", "fn",
)

KNOWN_SUBDIRS = frozenset((
    "noarch", "emscripten-wasm32", "wasi-wasm32", "freebsd-64", "linux-32", "linux-64",
    "linux-aarch64", "linux-armv6l", "linux-armv7l", "linux-ppc64", "linux-ppc64le",
    "linux-riscv64", "linux-s390x", "osx-64", "osx-arm64", "win-32", "win-64", "win-arm64",
    "zos-z",
))

# The channels that make up "defaults" (conda's DEFAULT_CHANNELS_UNIX / _WIN).
DEFAULTS_MEMBERS = frozenset(("defaults", "pkgs/main", "pkgs/r", "pkgs/msys2", "pkgs/free", "pkgs/pro"))

_PACKAGE_FILE = re.compile(r"\.(conda|tar\.bz2)$")
_BRACKETS = re.compile(r".*(?:(\[.*\]))")
_PARENS = re.compile(r".*(?:(\(.*\)))")
_KEY_VALUE = re.compile(r"([a-zA-Z0-9_-]+?)=([\"']?)([^'\"]*?)(\2)(?:[, ]|$)")
_NAME_AND_REST = re.compile(r"([^ =<>!~]+)?([><!=~ ].+)?")
# version and build from what follows the name: '1.2.3=0', '>=1.0 , < 2.0 py34_0', '* *'
_VERSION_BUILD = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")


class InvalidMatchSpec(ValueError):
    """A match spec that conda would reject, or that this module cannot check."""

    def __init__(self, spec, reason):
        super().__init__("invalid match spec '%s': %s" % (spec, reason))
        self.spec = spec
        self.reason = reason


# -- parsing -------------------------------------------------------------------------------
def _sanitize_version(version, build):
    """'=1.2' means '1.2*'; '==1.2' means '1.2' (when no build follows)."""
    if version in ("==", "="):
        return version
    if not version.startswith("="):
        return version
    bare = version.lstrip("=")
    if version.startswith("==") and build is None:
        return bare
    if not any(char in bare for char in "=,|"):
        if build is None and not bare.endswith("*"):
            return bare + "*"
        return bare
    return version


def _split_version_build(text):
    found = _VERSION_BUILD.search(text)
    if found:
        version, build = found.groups()
        build = build.strip() if build else build
    else:
        version, build = text, None
    return (version.replace(" ", "") if version else version), build


def _parse_key_values(text, original):
    values = {}
    for found in _KEY_VALUE.finditer(text):
        key, _quote, value, _end = found.groups()
        if not key or not value:
            raise InvalidMatchSpec(original, "key-value mismatch in brackets")
        if key == "version":
            value = _sanitize_version(value, None)
        values[key] = value
    return values


def _strip_section(regex, text):
    found = regex.match(text)
    if not found:
        return text, None
    section = found.group(1)
    return text.replace(section, ""), section[1:-1]


def split_channel(value):
    """'conda-forge/linux-64' -> ('conda-forge', 'linux-64'); URLs -> (channel name, subdir)."""
    if not value:
        return None, None
    name = value.rstrip("/")
    if "://" in name:
        name = name.split("://", 1)[1]
        host, _sep, path = name.partition("/")
        # anaconda.org channels are named by their path: conda.anaconda.org/conda-forge,
        # repo.anaconda.com/pkgs/main; other hosts keep the host in the name.
        name = path if host.endswith(("anaconda.org", "anaconda.com")) and path else name
    head, _sep, tail = name.rpartition("/")
    if head and tail in KNOWN_SUBDIRS:
        return head, tail
    return name, None


def _parse(spec_str):
    original = spec_str
    if not spec_str or not spec_str.strip():
        raise InvalidMatchSpec(original, "empty spec")
    spec_str = spec_str.split("#", 1)[0].split(" if ", 1)[0].strip()
    if _PACKAGE_FILE.search(spec_str.split("[", 1)[0]):
        raise InvalidMatchSpec(original, "package files and URLs are not supported")

    spec_str, bracket_text = _strip_section(_BRACKETS, spec_str)
    brackets = _parse_key_values(bracket_text, original) if bracket_text is not None else {}
    spec_str, _parens = _strip_section(_PARENS, spec_str)

    parts = spec_str.rsplit(":", 2)
    channel_str = parts[0] if len(parts) == 3 else None
    spec_str = parts[-1]
    channel, subdir = split_channel(channel_str)
    if "channel" in brackets:
        b_channel, b_subdir = split_channel(brackets.pop("channel"))
        channel = b_channel or channel
        subdir = b_subdir or subdir
    if "subdir" in brackets:
        subdir = brackets.pop("subdir")

    found = _NAME_AND_REST.match(spec_str)
    name, rest = found.groups() if found else (None, None)
    if name is None:
        raise InvalidMatchSpec(original, "no package name found")
    rest = rest.strip() if rest else rest
    version = build = None
    if rest:
        if "[" in rest:
            raise InvalidMatchSpec(original, "multiple brackets sections not allowed")
        version, build = _split_version_build(rest)
        version = _sanitize_version(version, build)

    components = {"name": name}
    for key, value in (("channel", channel), ("subdir", subdir), ("version", version), ("build", build)):
        if value is not None:
            components[key] = value
    brackets.pop("name", None)  # conda keeps the name given outside the brackets
    components.update(brackets)
    unknown = set(components) - set(FIELD_NAMES)
    if unknown:
        raise InvalidMatchSpec(original, "cannot match on field(s): %s" % ", ".join(sorted(unknown)))
    if components.get("version") in ("=", "==", "<=", ">=", "<", ">", "!=", "~="):
        raise InvalidMatchSpec(original, "operator without a version")
    return components


# -- matching ------------------------------------------------------------------------------
def _glob(pattern, lower=False):
    """Exact string, '*' glob, or '^regex$' (conda's GlobStrMatch)."""
    pattern = pattern.lower() if lower else pattern
    if pattern.startswith("^") and pattern.endswith("$"):
        regex = re.compile(pattern)
    elif "*" in pattern:
        regex = re.compile(r"^(?:%s)$" % re.escape(pattern).replace(r"\*", ".*"))
    else:
        return lambda value: value is not None and str(value) == pattern
    return lambda value: value is not None and regex.match(str(value)) is not None


def channel_identities(record):
    """The names a record's channel goes by: its channel field and its base_url's name."""
    names = set()
    for value in (record.get("channel"), record.get("base_url")):
        if value:
            name, _subdir = split_channel(str(value))
            names.add(name)
    return names


def _channel_matcher(value):
    if value.startswith("^") or "*" in value:
        glob = _glob(value)
        return lambda record: any(glob(name) for name in channel_identities(record))
    wanted, _subdir = split_channel(value)
    if wanted == "defaults":
        return lambda record: bool(channel_identities(record) & DEFAULTS_MEMBERS)
    return lambda record: wanted in channel_identities(record)


def _features_matcher(value):
    wanted = frozenset(f for f in re.split(r"[ ,]+", value) if f)

    def match(found):
        if isinstance(found, (list, tuple)):
            found = " ".join(found)
        return wanted == frozenset(f for f in re.split(r"[ ,]+", str(found or "")) if f)
    return match


def _field(record, name):
    if name == "build":
        return record.get("build_string", record.get("build"))
    if name == "subdir":
        return record.get("subdir", record.get("platform"))
    return record.get(name)


class MatchSpec:
    """A parsed match spec. ``match(record)`` is True when the installed record satisfies it."""

    def __init__(self, spec_str):
        self.spec = str(spec_str).strip()
        self.components = _parse(self.spec)
        try:
            self._matchers = [self._matcher(key, value) for key, value in self.components.items()]
        except (InvalidVersionSpec, re.error) as exc:
            raise InvalidMatchSpec(self.spec, str(exc))

    def __str__(self):
        return self.spec

    def __repr__(self):
        return "MatchSpec('%s')" % self.spec

    @property
    def name(self):
        """The package name, or '*' when the spec names no single package."""
        name = self.components["name"].lower()
        return "*" if "*" in name or name.startswith("^") else name

    def match(self, record):
        return all(matcher(record) for matcher in self._matchers)

    @staticmethod
    def _matcher(key, value):
        if key == "channel":
            return _channel_matcher(value)
        if key == "version":
            spec = VersionSpec(value)
            return lambda record: record.get("version") is not None and spec.match(record["version"])
        if key == "build_number":
            spec = BuildNumberMatch(value)
            return lambda record: spec.match(record.get("build_number"))
        if key in ("features", "track_features"):
            features = _features_matcher(value)
            return lambda record: features(record.get(key))
        lower = key in ("name", "license", "license_family")
        glob = _glob(value, lower=lower)
        if key in ("license", "license_family"):
            return lambda record: glob((_field(record, key) or "").lower())
        return lambda record: glob(_field(record, key))
