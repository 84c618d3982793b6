"""Asks the hub, through nginx, whether it answers, twice a second, from before the takeover
until the host restarts: one line per try, "<unix time> <HTTP status or error>", in
/root/adopt-probe.log. tests/e2e/test_adopt.py reads how long users were cut off."""

import ssl
import sys
import time
import urllib.request

URL = "http://127.0.0.1/jupyter/hub/api"  # after the takeover: redirected to HTTPS
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
with open(sys.argv[1] if len(sys.argv) > 1 else "/root/adopt-probe.log", "a", buffering=1) as log:
    while True:
        start = time.time()
        try:
            with opener.open(URL, timeout=5) as r:
                status = str(r.status)
        except urllib.error.HTTPError as e:
            status = str(e.code)
        except Exception as e:  # refused, reset, timed out: the hub does not answer
            status = type(e).__name__
        log.write(f"{start:.3f} {status}\n")
        time.sleep(max(0.0, 0.5 - (time.time() - start)))
