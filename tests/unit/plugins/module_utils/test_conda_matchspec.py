"""conda's match-spec rules, on conda's documented examples (conda_matchspec_cases.yml)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda_matchspec import (
    InvalidMatchSpec,
    MatchSpec,
)

CASES = yaml.safe_load((pathlib.Path(__file__).with_name("conda_matchspec_cases.yml")).read_text())
NUMPY_171 = {"name": "numpy", "version": "1.7.1", "build_string": "py27_0", "build_number": 0,
             "channel": "defaults"}


@pytest.mark.parametrize("spec,expected", CASES["against_numpy_1_7_1"])
def test_match_numpy_1_7_1(spec, expected):
    assert MatchSpec(spec).match(NUMPY_171) is expected


@pytest.mark.parametrize("spec,record,expected", CASES["documented"])
def test_documented(spec, record, expected):
    record = {key: (str(value) if key == "version" else value) for key, value in record.items()}
    assert MatchSpec(spec).match(record) is expected


@pytest.mark.parametrize("spec,components", CASES["parsed"])
def test_parsed(spec, components):
    assert MatchSpec(spec).components == components


@pytest.mark.parametrize("spec", CASES["invalid"])
def test_invalid(spec):
    with pytest.raises(InvalidMatchSpec):
        MatchSpec(spec)


def test_name():
    assert MatchSpec("conda-forge::NumPy>=1.2").name == "numpy"
    assert MatchSpec("* 2.7.4").name == "*"
