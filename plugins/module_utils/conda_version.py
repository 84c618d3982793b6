# -*- coding: utf-8 -*-
# Copyright: contributors to baremetal.jupyterhub
# BSD 3-Clause License (see galaxy.yml)
"""conda's version ordering and version specs, for deciding "already satisfied" offline.

The rules follow conda's own implementation (``conda/models/version.py``, classes
``VersionOrder``, ``VersionSpec``, ``BuildNumberMatch``) and its documentation page
"Package match specifications" / "Version ordering"; the examples in
tests/unit/plugins/module_utils/conda_version_cases.yml come from those two places.

In short:

* a version is ``[epoch!]version[+local]``; case-insensitive; ``-`` is read as ``_`` when the
  string has no ``_``;
* the version and local parts split into components at ``.`` and ``_``; each component into
  runs of digits and non-digits; digits compare as integers; a component that starts with a
  letter gets a leading 0 (so ``1.1.a1 == 1.1.0a1``); missing components count as 0
  (``1.1 == 1.1.0``);
* strings sort before integers, with ``dev`` lowest and ``post`` highest; ``*`` sorts before
  ``dev``, and a trailing ``_`` (``1.1_``, the openssl convention) sorts between ``dev`` and
  letters;
* specs: ``==`` ``!=`` ``<`` ``<=`` ``>`` ``>=`` ``~=`` (compatible release), ``=1.2`` and
  ``1.2*`` / ``1.2.*`` (prefix match on components: 1.2.11 yes, 1.20 no), a bare version
  (exact, ``1.7 == 1.7.0``), globs inside a version (``1.*.1``), ``^regex$``, ``,`` (and)
  binding tighter than ``|`` (or), parentheses.

This module runs on the managed host: Python 3.8+ and the standard library only.
"""

from __future__ import annotations

import operator
import re

__all__ = ["InvalidVersionSpec", "VersionOrder", "VersionSpec", "BuildNumberMatch"]

_VERSION_CHARS = re.compile(r"^[*.+!_0-9a-z]+$")
_SUBCOMPONENT = re.compile(r"([0-9]+|[*]+|[^0-9*]+)")
# operators and the version after them; '<= 1.2' (space) and '<>1.2' are rejected
_RELATION = re.compile(r"^(=|==|!=|<=|>=|<|>|~=)(?![=<>!~])(\S+)$")
_NEEDS_TREE = re.compile(r".*[()|,^$]")
_TOKENS = re.compile(r"\s*\^[^$]*[$]|\s*[()|,]|[^()|,]+")

# 'dev' must sort below every other string, '*' below 'dev': upper case sorts before lower case
# ('*' < 'DEV' < '_' < 'a'), and 'post' becomes +infinity so it sorts above any number.
_DEV = "DEV"
_POST = float("inf")


class InvalidVersionSpec(ValueError):
    """A version string or version spec that conda would reject too."""

    def __init__(self, spec, reason):
        super().__init__("invalid version '%s': %s" % (spec, reason))
        self.spec = spec
        self.reason = reason


def _convert(part):
    if part.isdigit():
        return int(part)
    if part == "post":
        return _POST
    if part == "dev":
        return _DEV
    return part


def _components(text):
    return text.replace("_", ".").split(".") if text else []


def _split_subcomponents(components, original):
    parsed = []
    for comp in components:
        parts = _SUBCOMPONENT.findall(comp)
        if not parts:
            raise InvalidVersionSpec(original, "empty version component")
        values = [_convert(p) for p in parts]
        if not comp[0].isdigit():
            values.insert(0, 0)  # keep numbers and strings in phase: 1.1.a1 == 1.1.0a1
        parsed.append(values)
    return parsed


def _pad(seq, length, fill):
    return list(seq) + [fill] * (length - len(seq))


def _is_str(value):
    return isinstance(value, str)


class VersionOrder:
    """A parsed conda version that compares the way conda compares versions."""

    fillvalue = 0

    def __init__(self, vstr):
        if isinstance(vstr, VersionOrder):
            vstr = vstr.norm_version
        version = str(vstr).strip().lower()
        if not version:
            raise InvalidVersionSpec(vstr, "empty version string")
        if not _VERSION_CHARS.match(version) and "-" in version and "_" not in version:
            version = version.replace("-", "_")  # dashes are allowed when there is no '_'
        if not _VERSION_CHARS.match(version):
            raise InvalidVersionSpec(vstr, "invalid character(s)")
        self.norm_version = version

        epoch, _sep, rest = version.rpartition("!") if "!" in version else ("0", "", version)
        if "!" in rest or "!" in epoch:
            raise InvalidVersionSpec(vstr, "duplicated epoch separator '!'")
        if not epoch.isdigit():
            raise InvalidVersionSpec(vstr, "epoch must be an integer")
        main, plus, local = rest.partition("+")
        if "+" in local:
            raise InvalidVersionSpec(vstr, "duplicated local version separator '+'")
        if not main:
            raise InvalidVersionSpec(vstr, "missing version before local version separator '+'")
        if plus and not local:
            raise InvalidVersionSpec(vstr, "empty local version")

        if main.endswith("_"):
            # openssl convention: a trailing '_' stays on the last component (1.0.1_ < 1.0.1a)
            comps = _components(main[:-1])
            comps[-1] += "_"
        else:
            comps = _components(main)
        self.version = _split_subcomponents([epoch] + comps, vstr)
        self.local = _split_subcomponents(_components(local), vstr) if plus else []

    def __str__(self):
        return self.norm_version

    def __repr__(self):
        return 'VersionOrder("%s")' % self.norm_version

    # -- comparison -------------------------------------------------------------------------
    @classmethod
    def _pairs(cls, left, right):
        """Yield corresponding subcomponents, padding missing ones as conda does."""
        length = max(len(left), len(right))
        for comp1, comp2 in zip(_pad(left, length, []), _pad(right, length, [])):
            width = max(len(comp1), len(comp2))
            for sub1, sub2 in zip(_pad(comp1, width, cls.fillvalue), _pad(comp2, width, cls.fillvalue)):
                yield sub1, sub2

    @classmethod
    def _equal(cls, left, right):
        return all(a == b for a, b in cls._pairs(left, right))

    @staticmethod
    def _less(sub1, sub2):
        if _is_str(sub1) and not _is_str(sub2):
            return True  # strings sort before numbers
        if _is_str(sub2) and not _is_str(sub1):
            return False
        return sub1 < sub2

    def __eq__(self, other):
        if not isinstance(other, VersionOrder):
            return NotImplemented
        return self._equal(self.version, other.version) and self._equal(self.local, other.local)

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self.norm_version)

    def __lt__(self, other):
        for mine, theirs in ((self.version, other.version), (self.local, other.local)):
            for sub1, sub2 in self._pairs(mine, theirs):
                if sub1 != sub2:
                    return self._less(sub1, sub2)
        return False

    def __gt__(self, other):
        return other < self

    def __le__(self, other):
        return not other < self

    def __ge__(self, other):
        return not self < other

    def startswith(self, other):
        """True when self matches ``other`` up to the last element of ``other`` (``=1.2``).

        The last element of ``other`` is compared whole for numbers (1.2 does not start 1.20)
        and as a string prefix for strings (0.4.1p1 starts with 0.4.1p).
        """
        if other.local:
            if not self._equal(self.version, other.version):
                return False
            mine, theirs = self.local, other.local
        else:
            mine, theirs = self.version, other.version
        last = len(theirs) - 1
        if not self._equal(mine[:last], theirs[:last]):
            return False
        comp1 = mine[last] if len(mine) > last else []
        comp2 = theirs[last]
        sub_last = len(comp2) - 1
        if not self._equal([comp1[:sub_last]], [comp2[:sub_last]]):
            return False
        sub1 = comp1[sub_last] if len(comp1) > sub_last else self.fillvalue
        sub2 = comp2[sub_last]
        if _is_str(sub2):
            return _is_str(sub1) and sub1.startswith(sub2)
        return sub1 == sub2


def _compatible_release(version, target):
    """``~=1.4.2`` means ``>=1.4.2`` and ``=1.4`` (PEP 440's compatible release)."""
    stem = ".".join(str(target).split(".")[:-1])
    return version >= target and version.startswith(VersionOrder(stem))


_OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "=": lambda version, target: version.startswith(target),
    "!=startswith": lambda version, target: not version.startswith(target),
    "~=": _compatible_release,
}


def _treeify(spec_str):
    """Parse ``a,b|c`` (``,`` binds tighter than ``|``) into ('|', (',', a, b), c)."""
    output = []
    stack = []

    def apply_ops(stop):
        while stack and stack[-1] not in stop:
            if len(output) < 2:
                raise InvalidVersionSpec(spec_str, "cannot join single expression")
            op = stack.pop()
            right = output.pop()
            left = output.pop()
            right = right[1:] if isinstance(right, tuple) and right[0] == op else (right,)
            left = left[1:] if isinstance(left, tuple) and left[0] == op else (left,)
            output.append((op,) + left + right)

    for token in _TOKENS.findall("(%s)" % spec_str):
        token = token.strip()
        if token == "|":
            apply_ops("(")
            stack.append("|")
        elif token == ",":
            apply_ops("|(")
            stack.append(",")
        elif token == "(":
            stack.append("(")
        elif token == ")":
            apply_ops("(")
            if not stack or stack[-1] != "(":
                raise InvalidVersionSpec(spec_str, "expression must start with '('")
            stack.pop()
        elif token:
            output.append(token)
    if stack or len(output) != 1:
        raise InvalidVersionSpec(spec_str, "unbalanced expression")
    return output[0]


class VersionSpec:
    """A conda version spec: ``match(version_string)`` says whether a version satisfies it."""

    def __init__(self, spec):
        if isinstance(spec, VersionSpec):
            spec = spec.spec
        self.spec = spec if isinstance(spec, tuple) else str(spec).strip()
        if not self.spec:
            raise InvalidVersionSpec(spec, "empty version spec")
        self._match = self._build(self.spec)

    def __str__(self):
        return self.spec if isinstance(self.spec, str) else repr(self.spec)

    def __repr__(self):
        return "VersionSpec('%s')" % self

    def match(self, version):
        return bool(self._match(str(version)))

    def _build(self, spec):
        if isinstance(spec, str) and _NEEDS_TREE.match(spec):
            spec = _treeify(spec)
        if isinstance(spec, tuple):
            parts = [VersionSpec(part) for part in spec[1:]]
            if spec[0] == "|":
                return lambda v: any(p.match(v) for p in parts)
            return lambda v: all(p.match(v) for p in parts)
        if spec.startswith("^") or spec.endswith("$"):
            if not (spec.startswith("^") and spec.endswith("$")):
                raise InvalidVersionSpec(spec, "regex specs must start with '^' and end with '$'")
            return re.compile(spec).match
        if spec[0] in "=<>!~":
            return self._relation(spec)
        if spec == "*":
            return lambda v: True
        if "*" in spec.rstrip("*"):
            # a glob inside the version: 1.*.1
            pattern = spec.replace(".", r"\.").replace("+", r"\+").replace("*", r".*")
            return re.compile(r"^(?:%s)$" % pattern).match
        if spec.endswith("*"):
            target = VersionOrder(spec.rstrip("*").rstrip("."))
            return lambda v: VersionOrder(v).startswith(target)
        if "@" in spec:
            return lambda v: v == spec
        target = VersionOrder(spec)
        return lambda v: VersionOrder(v) == target

    @staticmethod
    def _relation(spec):
        found = _RELATION.match(spec)
        if found is None:
            raise InvalidVersionSpec(spec, "invalid operator")
        op, version = found.groups()
        if version.endswith(".*"):
            if op == "~=":
                raise InvalidVersionSpec(spec, "invalid operator with '.*'")
            if op == "!=":
                op = "!=startswith"
            version = version[:-2]  # '=1.2.*' is '=1.2'; '>=1.2.*' is '>=1.2'
        target = VersionOrder(version)
        compare = _OPERATORS[op]
        return lambda v: compare(VersionOrder(v), target)


class BuildNumberMatch:
    """A build number spec: an integer (exact), ``*``, an operator and a number, or a regex."""

    def __init__(self, spec):
        self.spec = str(spec).strip()
        if self.spec == "*":
            self._match = lambda n: True
        elif self.spec.isdigit():
            wanted = int(self.spec)
            self._match = lambda n: str(n).isdigit() and int(n) == wanted
        elif self.spec[:1] in "=<>!~":
            found = _RELATION.match(self.spec)
            if found is None:
                raise InvalidVersionSpec(self.spec, "invalid operator")
            compare = _OPERATORS[found.group(1)]
            target = VersionOrder(found.group(2))
            self._match = lambda n: compare(VersionOrder(str(n)), target)
        elif self.spec.startswith("^") and self.spec.endswith("$"):
            regex = re.compile(self.spec)
            self._match = lambda n: regex.match(str(n))
        else:
            self._match = lambda n: str(n) == self.spec

    def match(self, number):
        if number is None or str(number).strip() == "":
            return False
        return bool(self._match(number))
