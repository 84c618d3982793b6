"""nginx in front: HTTPS at the base path, HTTP redirected, the bare base path redirected,
the site's root redirected to the hub, HSTS and no nginx version on answers, a self-signed
certificate browsers take, the hub's own proxy not reachable from outside, password
guessing throttled and guessers banned."""

import datetime
import json
import pathlib
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from cryptography import x509

from hub import logged_in, wait_until

SELF_SIGNED = "/etc/nginx/jupyterhub-tls/cert.pem"


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


def test_https_answers_send_hsts_and_no_nginx_version(target):
    if not target.url.startswith("https:"):
        pytest.skip("target is not behind HTTPS")
    for path in ("hub/login", "no-such-page"):
        r = requests.get(target.url + path, timeout=30, verify=target.verify, allow_redirects=False)
        assert r.headers.get("Strict-Transport-Security") == "max-age=63072000", (path, r.headers)
        assert r.headers.get("Server") == "nginx", (path, r.headers.get("Server"))


def test_the_sites_root_leads_to_the_hub_not_to_nginxs_welcome_page(target):
    base = urlsplit(target.url).path
    if base == "/":
        pytest.skip("the hub is at /")
    root = urlunsplit(urlsplit(target.url)._replace(path="/"))
    r = requests.get(root, timeout=30, verify=target.verify, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == base, (r.status_code, r.headers.get("Location"))
    r = requests.get(root, timeout=30, verify=target.verify)
    assert r.status_code == 200 and "JupyterHub" in r.text and "Welcome to nginx" not in r.text


def test_the_self_signed_certificate_is_one_browsers_take(target):
    """At most 398 days, a server certificate (not a CA) with the extensions TLS scanners
    and browsers look for."""
    if target.ca != SELF_SIGNED:
        pytest.skip("not the role's self-signed certificate")
    cert = x509.load_pem_x509_certificate(pathlib.Path(target.verify).read_bytes())
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc) / datetime.timedelta(days=1)
    assert days <= 398, days
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment
    assert x509.ExtendedKeyUsageOID.SERVER_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


# Run on the host: try a wrong password for alice `count` times at once from `source` (an
# address of the host's own), as a guesser would, and print the status codes nginx
# answered. The login form is used as a browser uses it (its _xsrf cookie and field), so
# that each try reaches PAM; the token API takes the password in its JSON body.
GUESS = r"""
import concurrent.futures, http.client, json, re, ssl, sys
source, count, path, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def connect():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context(),
                                       source_address=(source, 0), timeout=60)

def guess(_):
    conn = connect()
    if path.endswith("/tokens"):
        body = json.dumps({"auth": {"username": "alice", "password": "not-alices"}})
        headers = {"Content-Type": "application/json"}
    else:
        conn.request("GET", path)
        page = conn.getresponse()
        page.read()
        xsrf = re.search(r"_xsrf=([^;]+)", page.getheader("Set-Cookie") or "")
        xsrf = xsrf.group(1) if xsrf else ""
        body = "username=alice&password=not-alices&_xsrf=" + xsrf
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "_xsrf=" + xsrf}
    conn.request("POST", path, body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status

with concurrent.futures.ThreadPoolExecutor(count) as pool:
    print(json.dumps(list(pool.map(guess, range(count)))))
"""


def https_port(target):
    """The port nginx serves the hub's site on over TLS (its `listen ... ssl` line)."""
    site = target.exec("cat", "/etc/nginx/sites-enabled/jupyterhub.conf").stdout
    return next(line.split()[1] for line in site.splitlines() if line.strip().startswith("listen") and "ssl" in line).split(":")[-1]


@pytest.mark.parametrize("endpoint, source", [("hub/login", "127.0.0.2"), ("hub/api/users/alice/tokens", "127.0.0.3")])
def test_password_guessing_is_throttled_per_client_address(target, endpoint, source):
    """20 wrong passwords at once from one client address: the burst (10) gets through,
    the rest get 429; alice, from another address, still logs in. The guesser runs on the host, from a
    loopback address of its own: nginx sees it as the client (X-Real-IP is nginx's own)."""
    if not target.url.startswith("https:"):
        pytest.skip("target is not behind HTTPS")
    port = https_port(target)
    path = urlsplit(target.url).path + endpoint
    codes = json.loads(target.exec("python3", "-c", GUESS, source, "20", path, port).stdout)
    assert len(codes) - codes.count(429) >= 10 and codes.count(429) >= 5, codes
    if target.exec("fail2ban-client", "status", "jupyterhub", check=False).returncode == 0:
        # The failures also get the address banned, and the ban reloads nginx, which closes
        # idle keep-alive connections: let that happen before alice's login, not during it.
        wait_until(lambda: json.loads(target.exec("python3", "-c", PROBE, source, path, port).stdout)
                   == [403, True], timeout=30, what=f"the ban of {source} to take effect")
    logged_in(target, "alice")
    # These failures also got the address banned (the next test's subject): lift it.
    target.exec("fail2ban-client", "set", "jupyterhub", "unbanip", source, check=False)


# Run on the host: GET `path` from `source` and print the status, and whether nginx
# itself answered (its own error page) rather than the hub.
PROBE = r"""
import http.client, json, ssl, sys
source, path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context(),
                                   source_address=(source, 0), timeout=30)
conn.request("GET", path)
r = conn.getresponse()
print(json.dumps([r.status, b"<center>nginx</center>" in r.read()]))
"""


def test_an_address_that_keeps_failing_is_banned_while_others_still_log_in(target):
    """20 wrong passwords from one address: the throttle answers 429 once the burst is
    spent, and after 10 failed logins fail2ban bans the address (nginx answers it 403 on
    the hub's paths) while alice, from another address, still logs in. Unbanned, the
    address gets the login page again."""
    if not target.url.startswith("https:"):
        pytest.skip("target is not behind HTTPS")
    port = https_port(target)
    source, login = "127.0.0.4", urlsplit(target.url).path + "hub/login"

    def probe():
        return json.loads(target.exec("python3", "-c", PROBE, source, login, port).stdout)

    assert probe() == [200, False]
    codes = json.loads(target.exec("python3", "-c", GUESS, source, "20", login, port).stdout)
    assert 429 in codes, codes
    try:
        wait_until(lambda: probe() == [403, True], timeout=30, what=f"nginx to refuse {source}")
        assert source in target.exec("fail2ban-client", "status", "jupyterhub").stdout
        logged_in(target, "alice")
    finally:
        target.exec("fail2ban-client", "set", "jupyterhub", "unbanip", source, check=False)
    wait_until(lambda: probe() == [200, False], timeout=30, what=f"nginx to serve {source} again")
