"""End-to-end checks run from the controller against hubs in test containers.

A target is a container (reached with `docker exec` for the few checks that need the
host) and the URLs its hub is published at on 127.0.0.1:

    pytest tests/e2e --target "bmjh-default-debian12,url=https://127.0.0.1:18443/jupyter/,
        http=http://127.0.0.1:18080/jupyter/,direct=http://127.0.0.1:18000/,
        ca=/etc/nginx/jupyterhub-tls/cert.pem"

    url     the hub as users reach it (required)
    http    the same over plain HTTP, when url is HTTPS (redirect checks)
    direct  a published port that must NOT answer (the hub's proxy, loopback only)
    other   another site on the same nginx that must still answer with its own page
    firewalled  a published port (host:port, e.g. 127.0.0.1:12099 for the container's 8099)
            that the host firewall must keep closed
    ca      a CA certificate inside the container that the HTTPS URL is verified with

or BMJH_TARGETS with targets separated by spaces. Test users are those molecule's prepare
creates (password: the user name + "-pw").
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
        specs = os.environ["BMJH_TARGETS"].split()
    targets = []
    for spec in specs:
        name, *fields = [f.strip() for f in spec.split(",") if f.strip()]
        opts = dict(f.partition("=")[::2] for f in fields)
        unknown = set(opts) - {"url", "http", "direct", "other", "ca", "firewalled"}
        if unknown or not opts.get("url", "").startswith("http"):
            raise pytest.UsageError(f"--target wants container,url=...[,http=...][,direct=...][,other=...][,ca=...][,firewalled=...], got {spec!r}")
        url = opts["url"] if opts["url"].endswith("/") else opts["url"] + "/"
        targets.append(Target(container=name, url=url, http_url=opts.get("http"),
                              direct_url=opts.get("direct"), other_url=opts.get("other"), ca=opts.get("ca"),
                              firewalled=opts.get("firewalled")))
    return targets


@pytest.fixture(scope="session")
def targets(request):
    """All targets at once, for tests that run the site playbook on every host in one go."""
    found = _targets(request.config)
    if not found:
        raise pytest.UsageError("no target: give --target container,url=... or set BMJH_TARGETS")
    return found


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        targets = _targets(metafunc.config)
        if not targets:
            raise pytest.UsageError("no target: give --target container=url or set BMJH_TARGETS")
        metafunc.parametrize("target", targets, ids=[t.container for t in targets], scope="module")


def pytest_collection_modifyitems(items):
    """Tests that reinstall the hub (day-2 operations) run last, after the others have
    used the hub as the scenario made it."""
    items.sort(key=lambda item: item.get_closest_marker("day2_ops") is not None)
