"""conda's VersionOrder and VersionSpec rules, on conda's documented examples (conda_version_cases.yml)."""

from __future__ import annotations

import pathlib
import random

import pytest
import yaml

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda_version import (
    BuildNumberMatch,
    InvalidVersionSpec,
    VersionOrder,
    VersionSpec,
)

CASES = yaml.safe_load((pathlib.Path(__file__).with_name("conda_version_cases.yml")).read_text())


def _expected_parse(parsed):
    special = {"inf": float("inf")}
    return [[special.get(part, part) if isinstance(part, str) else part for part in comp] for comp in parsed]


@pytest.mark.parametrize("table", ["order_openssl", "order_pep440"])
def test_documented_order(table):
    versions = [VersionOrder(v) for v in CASES[table]]
    shuffled = versions[:]
    random.Random(4).shuffle(shuffled)
    assert [str(v) for v in sorted(shuffled)] == [str(v) for v in versions]
    for lower, higher in zip(versions, versions[1:]):
        assert lower < higher and higher > lower and lower <= higher and not lower >= higher


def test_docstring_order_with_equal_groups():
    groups = [[VersionOrder(v) for v in group] for group in CASES["order_docstring"]]
    for group in groups:
        for version in group:
            assert version == group[0] and not version < group[0]
    for lower, higher in zip(groups, groups[1:]):
        assert lower[0] < higher[0], (lower[0], higher[0])
        assert lower[-1] < higher[-1]
        assert lower[0] != higher[0]


@pytest.mark.parametrize("version,parsed", CASES["parsed"] + CASES["parsed_unordered"])
def test_parsed_form(version, parsed):
    assert VersionOrder(version).version == _expected_parse(parsed)


def test_parsed_table_is_ascending():
    versions = [VersionOrder(row[0]) for row in CASES["parsed"]]
    assert sorted(versions) == versions


@pytest.mark.parametrize("left,right", CASES["equal"])
def test_equal(left, right):
    assert VersionOrder(left) == VersionOrder(right)


@pytest.mark.parametrize("left,right", CASES["not_equal"])
def test_not_equal(left, right):
    assert VersionOrder(left) != VersionOrder(right)


@pytest.mark.parametrize("version", CASES["invalid"])
def test_invalid_versions(version):
    with pytest.raises(InvalidVersionSpec):
        VersionOrder(version)


@pytest.mark.parametrize("version,prefix,expected", CASES["startswith"])
def test_startswith(version, prefix, expected):
    assert VersionOrder(version).startswith(VersionOrder(prefix)) is expected


@pytest.mark.parametrize("spec,expected", CASES["spec_match_1_7_1"])
def test_spec_against_1_7_1(spec, expected):
    assert VersionSpec(spec).match("1.7.1") is expected


@pytest.mark.parametrize("version,spec,expected", CASES["spec_cases"])
def test_spec_cases(version, spec, expected):
    assert VersionSpec(spec).match(version) is expected


@pytest.mark.parametrize("spec", CASES["invalid_specs"])
def test_invalid_specs(spec):
    with pytest.raises(InvalidVersionSpec):
        VersionSpec(spec).match("3.0.0")


@pytest.mark.parametrize("spec,number,expected", [
    # conda's tests/models/test_match_spec.py test_bracket_matches: build_number 7
    ("7", 7, True), ("<8", 7, True), (">7", 7, False), (">=7", 7, True),
    ("*", 3, True), ("0", 0, True), ("0", 1, False),
])
def test_build_number(spec, number, expected):
    assert BuildNumberMatch(spec).match(number) is expected
