"""The shared rules, through the test plugins the roles call them by."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.test.rules import TestModule as RulesTestModule

TESTS = RulesTestModule().tests()

CASES = [
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
]


@pytest.mark.parametrize("test, value, expected", CASES, ids=[f"{case[0]}-{case[1]!r}" for case in CASES])
def test_rule(test, value, expected):
    assert TESTS[test](value) is expected
