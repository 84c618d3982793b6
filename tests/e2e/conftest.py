"""End-to-end checks run from the controller against hubs in test containers.

A target is a container (reached with `docker exec` for the few checks that need the
host) and the URL its hub is published at on 127.0.0.1:

    pytest tests/e2e --target bmjh-default-debian12=http://127.0.0.1:18000/

or BMJH_TARGETS="name=url,name=url". Test users are those molecule's prepare creates
(password: the user name + "-pw").
"""

import os

import pytest

from hub import Target


def pytest_addoption(parser):
    parser.addoption(
        "--target",
        action="append",
        default=[],
        help="container=url of a hub to test (repeatable); default: $BMJH_TARGETS",
    )


def _targets(config):
    specs = list(config.getoption("--target"))
    if not specs and os.environ.get("BMJH_TARGETS"):
        specs = [s for s in os.environ["BMJH_TARGETS"].split(",") if s]
    targets = []
    for spec in specs:
        name, sep, url = spec.partition("=")
        if not sep or not url.startswith("http"):
            raise pytest.UsageError(f"--target wants container=url, got {spec!r}")
        targets.append(Target(container=name, url=url if url.endswith("/") else url + "/"))
    return targets


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        targets = _targets(metafunc.config)
        if not targets:
            raise pytest.UsageError("no target: give --target container=url or set BMJH_TARGETS")
        metafunc.parametrize("target", targets, ids=[t.container for t in targets], scope="module")
