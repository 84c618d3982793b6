"""conda_ask: the program conda_env runs with conda's Python, and where that Python is looked for.

What the program answers with conda is recorded from conda 26.7.1 (tests/unit/fixtures/conda/
recorded-26.7.1/*-ask-*.json, used by test_conda_env); here it runs for real with the Python of
the test run, which has no conda: it must say so instead of failing, so that conda_env falls back.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from ansible_collections.baremetal.jupyterhub.plugins.module_utils import conda_ask


def test_helper_parses_with_the_python_3_8_grammar():
    ast.parse(conda_ask.HELPER, "<conda_ask.HELPER>", feature_version=(3, 8))


def test_helper_without_conda_says_so():
    try:
        import conda  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        pass
    else:
        pytest.skip("this Python has conda")
    request = conda_ask.request("/nonexistent", ["pkg-a<1.20"], ["six==1.17.0"], {"six": "1.16.0"})
    proc = subprocess.run([sys.executable, "-I", "-c", conda_ask.HELPER], input=request, capture_output=True,
                          text=True, check=True)
    assert json.loads(proc.stdout) == {"conda": None, "error": "ModuleNotFoundError: No module named 'conda'"}


@pytest.mark.parametrize("executable, python", [
    ("/opt/conda/bin/conda", "/opt/conda/bin/python"),
    ("/opt/conda/condabin/conda", "/opt/conda/bin/python"),
    ("/opt/conda/bin/mamba", "/opt/conda/bin/python"),
])
def test_conda_python(executable, python):
    assert conda_ask.conda_python(executable) == python


def test_conda_python_follows_a_link(tmp_path):
    (tmp_path / "opt" / "bin").mkdir(parents=True)
    (tmp_path / "opt" / "bin" / "conda").write_text("")
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "bin" / "conda").symlink_to(tmp_path / "opt" / "bin" / "conda")
    assert conda_ask.conda_python(str(tmp_path / "usr" / "bin" / "conda")) == str(tmp_path / "opt" / "bin" / "python")


def test_request_is_stable_json():
    assert conda_ask.request("/p", ["a"]) == '{"pip_installed": {}, "pip_specs": [], "prefix": "/p", "specs": ["a"]}'
