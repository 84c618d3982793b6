"""A real browser: headless Chromium (Debian's `chromium`, driven by Playwright) opens the hub's
base URL, logs in through the login form as a PAM user, waits for JupyterLab's launcher, opens a
notebook on the shared kernel from the launcher, runs a cell and reads its output, then shows an
interactive widget (an IntSlider: the kernel's ipywidgets, drawn by JupyterLab's widget manager).

Screenshots (after login, after the output, and on failure) are kept under $BMJH_ARTIFACTS
(default tests/artifacts), named by container. tests/harness/browser.sh installs Chromium;
BMJH_CHROMIUM overrides its path.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import pathlib
import re
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from hub import ARTIFACTS, HubSession

USER = "bob"  # alice and carol are used by other tests
KERNEL, KERNEL_DISPLAY, PREFIX = "python3", "Python (default)", "/opt/jupyter-envs/python"
CODE = "import sys; print(sys.prefix)"
WIDGET_CODE = "import ipywidgets as w; w.IntSlider(5)"
CHROMIUM = os.environ.get("BMJH_CHROMIUM", "/usr/bin/chromium")
# Headless as root in a sandbox; the background-networking flags keep Chromium from calling
# home (this machine refuses those connections, and a test should not make them anyway).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
LOGIN_TIMEOUT = 90_000  # ms: login, spawn (when bob's server is not running) and JupyterLab's first load
STEP_TIMEOUT = 30_000  # ms: any other step

pytestmark = pytest.mark.browser


def spki_hash(pem_file: str) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's
    --ignore-certificate-errors-spki-list wants it."""
    cert = x509.load_pem_x509_certificate(pathlib.Path(pem_file).read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def trust_flags(target) -> list[str]:
    """Chromium flags to trust the hub's certificate, and no other certificate it would not trust anyway.

    Chromium on Linux reads its CAs from an NSS database, not from a PEM file, so the CA the other
    tests verify with (Target.verify: the container's `ca` file, copied to the controller) is given
    as a pin on its public key: a chain the server sends that holds a certificate with this key is
    accepted; any other certificate (another host's self-signed one, say) still fails the page load
    with ERR_CERT_AUTHORITY_INVALID. Not Playwright's ignore_https_errors, which would accept any
    certificate. The pin matches when the CA's certificate is in the chain the server sends, as the
    hub's self-signed certificate is.
    """
    if isinstance(target.verify, str):
        return [f"--ignore-certificate-errors-spki-list={spki_hash(target.verify)}"]
    return []


def screenshot(page, target, step: str) -> pathlib.Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"browser-{target.container}-{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def notebooks(api: HubSession) -> set[str]:
    r = api.api("GET", f"user/{USER}/api/contents/", params={"content": "1"})
    r.raise_for_status()
    return {item["path"] for item in r.json()["content"] if item["type"] == "notebook"}


def sessions(api: HubSession) -> dict[str, dict]:
    r = api.api("GET", f"user/{USER}/api/sessions")
    r.raise_for_status()
    return {s["id"]: s for s in r.json()}


def clean_up(api: HubSession, old_sessions: set[str], old_notebooks: set[str]) -> None:
    """Shut the kernels of the notebooks the test opened, delete the notebooks, and forget the
    JupyterLab workspace that had them open (so that the next run starts with the launcher)."""
    for sid in set(sessions(api)) - old_sessions:
        api.api("DELETE", f"user/{USER}/api/sessions/{sid}").raise_for_status()
    for path in notebooks(api) - old_notebooks:
        api.api("DELETE", f"user/{USER}/api/contents/{path}").raise_for_status()
    r = api.api("DELETE", f"user/{USER}/lab/api/workspaces/default")
    assert r.status_code in (204, 404), f"deleting the workspace: {r.status_code} {r.text[:200]}"


def wait_for_jupyterlab(page, target) -> None:
    """Wait until the login has led to JupyterLab; fail at once on a refused login or an error page.

    One error page is retried, once: the user's server answering its OAuth callback with 500
    (invalid_grant) because the browser sent that navigation twice. Chromium was seen to do so
    once in some fifty runs on a loaded machine (nginx logged the first request as 499, closed by
    the client; the second, without the user-activation header, found the one-time code used).
    A user would open the hub's URL again; so does the test, and says so.
    """
    ready = page.locator(".jp-Launcher:visible, .jp-Document:visible")
    refused = page.locator(".login_error:visible")
    error = page.get_by_text(re.compile(r"^[45]\d\d ?: \w"))  # tornado's and the hub's error pages
    for attempt in (1, 2):
        expect(ready.or_(refused).or_(error).first).to_be_visible(timeout=LOGIN_TIMEOUT)
        assert not refused.count(), f"the hub refused {USER}'s login: {refused.inner_text()!r}"
        if not error.count():
            break
        message = f"error page at {page.url.split('?')[0]}: {error.first.inner_text()!r}"
        if attempt == 2 or "/oauth_callback" not in page.url:
            raise AssertionError(message)
        print(f"{target.container}: {message}; opening {target.url} again")
        screenshot(page, target, "oauth-retry")
        page.goto(target.url)
    assert re.search(f"/user/{USER}/lab", page.url), page.url


def test_browser_logs_in_and_runs_a_cell_on_the_shared_kernel(target):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run tests/harness/browser.sh (as root) first")
    api = HubSession(target, USER)  # the same user over the REST API, for bookkeeping
    old_sessions: set[str] | None = None
    old_notebooks: set[str] = set()
    marks = {"start": time.monotonic()}
    for old in ARTIFACTS.glob(f"browser-{target.container}-*.png"):
        old.unlink()  # not to mistake a screenshot of an earlier run for one of this run
    with sync_playwright() as pw:
        # A fresh profile: Playwright starts Chromium with --user-data-dir in a new temporary directory.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS + trust_flags(target))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(STEP_TIMEOUT)
        try:
            page.goto(target.url)
            # The login form, filled and sent as a user does.
            page.locator("#username_input").fill(USER)
            page.locator("#password_input").fill(f"{USER}-pw")
            page.locator("#login_submit").click()
            # Spawn (if needed), then JupyterLab with its launcher: JupyterLab shows one when it
            # restores no document. (A run that could not clean up may have left a document open
            # in the workspace: then open a launcher as a user would.)
            launcher = page.locator(".jp-Launcher:visible")
            wait_for_jupyterlab(page, target)
            if not launcher.count():
                page.locator('.jp-FileBrowser [data-command="launcher:create"]').click()
            expect(launcher).to_be_visible(timeout=STEP_TIMEOUT)
            marks["JupyterLab"] = time.monotonic()

            assert api.login().status_code == 200 and api.logged_in, f"{USER} could not log in over HTTP"
            old_sessions, old_notebooks = set(sessions(api)), notebooks(api)

            cards = launcher.locator('.jp-LauncherCard[data-category="Notebook"]')
            expect(cards.first).to_be_visible(timeout=STEP_TIMEOUT)
            offered = cards.evaluate_all("cards => cards.map(c => c.title)")
            page.wait_for_function("() => [...document.querySelectorAll('.jp-Launcher img')].every(i => i.complete)")
            screenshot(page, target, "1-login")  # with the kernels' logos
            assert KERNEL_DISPLAY in offered, f"no notebook card {KERNEL_DISPLAY!r} in the launcher; it offers {offered}"
            cards.nth(offered.index(KERNEL_DISPLAY)).click()

            # A new notebook on that kernel: type the code in the first cell, Shift+Enter.
            panel = page.locator(".jp-NotebookPanel:visible")
            expect(panel.locator(".jp-Toolbar-kernelName")).to_have_text(KERNEL_DISPLAY, timeout=STEP_TIMEOUT)
            # Run only once the kernel has started and JupyterLab is connected to it: a cell run
            # before that is dropped (its prompt stays empty). The status bar shows the notebook's
            # kernel state as it is ("Initializing", "Connecting", ...); the toolbar's indicator
            # starts as "idle" before it knows.
            statusbar = page.locator("#jp-main-statusbar")
            expect(statusbar.get_by_text(f"{KERNEL_DISPLAY} | Idle", exact=True)).to_be_visible(timeout=STEP_TIMEOUT)
            marks["kernel idle"] = time.monotonic()
            cell = panel.locator(".jp-Notebook .jp-CodeCell").first
            editor = cell.locator(".cm-content")
            editor.click()
            editor.press_sequentially(CODE)
            expect(editor).to_have_text(CODE)  # the editor's bracket closing did not add anything
            editor.press("Shift+Enter")

            output = cell.locator(".jp-OutputArea-output")
            expect(output).not_to_have_count(0, timeout=STEP_TIMEOUT)
            expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"), timeout=STEP_TIMEOUT)
            marks["output"] = time.monotonic()
            screenshot(page, target, "2-output")
            assert output.first.inner_text().strip() == PREFIX, (
                f"the cell printed {output.all_inner_texts()!r}, wanted {PREFIX!r}")

            # A widget: the shared kernel's ipywidgets, drawn by JupyterLab's widget manager.
            widget_cell = panel.locator(".jp-Notebook .jp-CodeCell").nth(1)
            widget_editor = widget_cell.locator(".cm-content")
            widget_editor.click()
            widget_editor.press_sequentially(WIDGET_CODE)
            expect(widget_editor).to_have_text(WIDGET_CODE)
            widget_editor.press("Shift+Enter")
            widget_output = widget_cell.locator(".jp-OutputArea-output")
            expect(widget_output).not_to_have_count(0, timeout=STEP_TIMEOUT)
            slider = widget_output.locator(".widget-slider")
            try:
                expect(slider).to_be_visible(timeout=STEP_TIMEOUT)
            except AssertionError as err:
                raise AssertionError(f"no IntSlider; the cell shows {widget_output.all_inner_texts()!r}") from err
            expect(widget_output.locator(".widget-readout")).to_have_text("5")
            marks["widget"] = time.monotonic()
            screenshot(page, target, "3-widget")

            # The server agrees: the notebook's session runs the shared kernel.
            new = [s for sid, s in sessions(api).items() if sid not in old_sessions]
            assert [s["kernel"]["name"] for s in new] == [KERNEL], new
        except Exception:
            with contextlib.suppress(PlaywrightError):
                print(f"screenshot: {screenshot(page, target, 'failed')}")
            raise
        finally:
            # Closed before the clean-up, so that JupyterLab cannot save the notebook again.
            browser.close()
            if old_sessions is not None:
                clean_up(api, old_sessions, old_notebooks)
    marks["end (cleaned up)"] = time.monotonic()
    print(f"\n{target.container}: " + ", ".join(f"{k} {t - marks['start']:.1f} s" for k, t in marks.items() if k != "start"))
