"""reverse_proxy_tls_mode acme, end to end against an ACME CA: pebble, Let's Encrypt's test
server (the distribution's package), which the role_import scenario's prepare runs on the
host's loopback with its API certificate signed by the scenario's CA.

A CA that refuses leaves nginx serving what it served before. Then the site is applied with
acme settings; the certificate pebble issues is served by nginx,
a second run neither changes anything nor asks again, certbot.timer is scheduled, and a
renewal as the timer runs it (certbot.service) trusts the same CA, gets a new certificate
and has nginx serve it. Afterwards the scenario's own settings are applied again.
"""

import socket
import ssl
import urllib.parse

import pytest
from cryptography import x509

from sitecli import recap, run_site

pytestmark = [pytest.mark.site_runs, pytest.mark.acme]

NAME = "hub.test"  # the role_import scenario's reverse_proxy_server_names
CA = "/etc/ssl/hub/ca.pem"  # signed pebble's API certificate (molecule/role_import/prepare.yml)
ACME = {
    "reverse_proxy_tls_mode": "acme",
    "reverse_proxy_acme_email": "admin@hub.test",
    "reverse_proxy_acme_server": "https://localhost:14000/dir",
    "reverse_proxy_acme_ca_bundle": CA,
}
RENEWAL_CONF = f"/etc/letsencrypt/renewal/{NAME}.conf"


def pebble(target, path: str) -> str:
    """GET from pebble's management API inside the host (its roots and intermediates)."""
    code = ("import ssl, sys, urllib.request\n"
            "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
            "print(urllib.request.urlopen('https://localhost:15000' + sys.argv[1], context=ctx, timeout=30).read().decode())")
    return target.exec("python3", "-c", code, path, CA).stdout


def served(target, cafile: str | None) -> tuple[x509.Certificate, str]:
    """The certificate nginx serves for NAME, verified against cafile (None: not verified),
    and the status line of the hub's login page fetched through it."""
    parts = urllib.parse.urlsplit(target.url)
    ctx = ssl.create_default_context(cafile=cafile)
    if cafile is None:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((parts.hostname, parts.port or 443), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=NAME) as tls:
            der = tls.getpeercert(binary_form=True)
            tls.sendall(f"GET {parts.path}hub/login HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n".encode())
            status = tls.recv(4096).split(b"\r\n", 1)[0].decode()
    return x509.load_der_x509_certificate(der), status


@pytest.fixture
def acme_site(target, tmp_path):
    # First a CA that says no: the run stops with what certbot said, and nginx serves what
    # it served before (the scenario's provided certificate).
    before = served(target, None)[0]
    refused = run_site(target, dict(ACME, reverse_proxy_acme_server="https://localhost:14000/no-such-directory"))
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0, said[-4000:]
    assert "certbot got no certificate for hub.test" in said, said[-4000:]
    assert "nginx serves the site it served before this run again" in said, said[-4000:]
    cert, status = served(target, None)
    assert cert.serial_number == before.serial_number and status.split()[1] == "200", status

    first = run_site(target, ACME)
    try:
        assert first.returncode == 0, first.stdout[-4000:]
        root = tmp_path / "pebble-root.pem"
        root.write_text(pebble(target, "/roots/0"))
        yield first, str(root)
    finally:
        # The tests after this one expect the scenario's own certificate; a later run of this
        # test expects none from pebble (whose CA is gone when it restarts).
        back = run_site(target)
        assert back.returncode == 0, back.stdout[-4000:]
        target.exec("certbot", "delete", "--non-interactive", "--cert-name", NAME, check=False)


def test_acme_certificate_is_issued_served_kept_and_renewed(target, acme_site):
    first, root = acme_site
    assert recap(first, target.container)["changed"] > 0
    intermediate = x509.load_pem_x509_certificate(pebble(target, "/intermediates/0").encode())

    cert, status = served(target, root)
    assert status.split()[1] == "200", status
    assert cert.issuer == intermediate.subject, cert.issuer
    assert NAME in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)

    second = run_site(target, ACME)
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second, target.container)["changed"] == 0, second.stdout[-4000:]
    assert served(target, root)[0].serial_number == cert.serial_number, "the second run asked for a new certificate"

    # Renewal is scheduled, and the timer's service trusts the private CA.
    assert target.exec("systemctl", "is-enabled", "certbot.timer").stdout.strip() == "enabled"
    assert target.exec("systemctl", "is-active", "certbot.timer").stdout.strip() == "active"
    env = target.exec("systemctl", "show", "-p", "Environment", "--value", "certbot.service").stdout.split()
    assert f"REQUESTS_CA_BUNDLE={CA}" in env, env

    # A renewal as certbot.timer runs it, made due now: a new certificate, served (the
    # deploy hook reloaded nginx).
    # (a top-level setting of the renewal file: before its [renewalparams] section)
    target.exec("sed", "-i", "1i renew_before_expiry = 36500 days", RENEWAL_CONF)
    try:
        renewal = target.exec("systemctl", "start", "certbot.service", check=False)
        result = target.exec("systemctl", "show", "-p", "Result", "--value", "certbot.service").stdout.strip()
        log = target.exec("journalctl", "-u", "certbot.service", "-n", "30", "--no-pager", check=False).stdout
        assert renewal.returncode == 0 and result == "success", f"{renewal.stderr}\n{log}"
    finally:
        target.exec("sed", "-i", "/^renew_before_expiry = 36500 days$/d", RENEWAL_CONF)
    renewed, status = served(target, root)
    assert status.split()[1] == "200", status
    assert renewed.serial_number != cert.serial_number, "nginx still serves the certificate from before the renewal"
    assert renewed.issuer == intermediate.subject
