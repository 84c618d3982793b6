"""nginx in front: HTTPS at the base path, HTTP redirected, the bare base path redirected,
and the hub's own proxy not reachable from outside."""

from urllib.parse import urlsplit

import pytest
import requests


def test_https_serves_the_hub_at_the_base_path(target):
    if not target.url.startswith("https:"):
        pytest.skip("target is not behind HTTPS")
    r = requests.get(target.url + "hub/login", timeout=30, verify=target.verify)
    assert r.status_code == 200 and "JupyterHub" in r.text


def test_plain_http_redirects_to_https(target):
    if not target.http_url:
        pytest.skip("no plain HTTP URL for this target")
    r = requests.get(target.http_url + "hub/login", timeout=30, allow_redirects=False)
    assert r.status_code == 301, r.status_code
    location = urlsplit(r.headers["Location"])
    assert location.scheme == "https" and location.path == urlsplit(target.url).path + "hub/login"


def test_base_path_without_trailing_slash_works(target):
    base = urlsplit(target.url).path
    if base == "/":
        pytest.skip("the hub is at /")
    r = requests.get(target.url.rstrip("/"), timeout=30, verify=target.verify, allow_redirects=False)
    assert r.status_code in (301, 302, 307, 308) and r.headers["Location"].rstrip("/") + "/" == base
    r = requests.get(target.url.rstrip("/"), timeout=30, verify=target.verify)
    assert r.status_code == 200 and "JupyterHub" in r.text


def test_the_hubs_own_proxy_is_not_reachable_from_outside(target):
    if not target.direct_url:
        pytest.skip("no direct URL for this target")
    # The port is published; behind it the proxy listens on the container's loopback only,
    # so the connection is dropped instead of answered.
    with pytest.raises(requests.ConnectionError):
        requests.get(target.direct_url, timeout=10)


def test_the_other_site_still_answers_with_its_own_page(target):
    if not target.other_url:
        pytest.skip("no other site on this target")
    r = requests.get(target.other_url, timeout=30)
    assert r.status_code == 200 and "bmjh-other-site" in r.text, (r.status_code, r.text[:200])
