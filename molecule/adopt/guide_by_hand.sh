#!/usr/bin/env bash
# The bare-metal guide followed by hand, as root on the test host (molecule/adopt/prepare.yml
# runs it): Part 1 step by step as bench/guide_install.sh does it, copied beside this script
# (a venv with jupyterhub + jupyterlab + ipywidgets, nodejs and npm from the distribution,
# `npm install -g configurable-http-proxy`, the generated jupyterhub_config.py with
# `c.Spawner.default_url = '/lab'`, the guide's unit linked into systemd), the shared
# "python" kernel installed into the hub's prefix the guide's way (from the hub's venv: the
# guide's conda apt repository is gone), and the reverse-proxy part: the hub at /jupyter,
# nginx's stock default site given the guide's map and location, next to a location of the
# admin's own (/wiki/).
#
# Versions (what a reader who followed the guide a while ago has):
#   GUIDE_JUPYTERHUB GUIDE_JUPYTERLAB GUIDE_IPYWIDGETS GUIDE_CHP
# npm needs NODE_EXTRA_CA_CERTS where the registry is reached through a TLS-inspecting proxy.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${GUIDE_JUPYTERHUB:?}" "${GUIDE_JUPYTERLAB:?}" "${GUIDE_IPYWIDGETS:?}" "${GUIDE_CHP:?}"

say() { printf '=== %s\n' "$*"; }

say "Part 1, as the benchmark's guide install does it (bench/guide_install.sh)"
BENCH_JUPYTERHUB=$GUIDE_JUPYTERHUB BENCH_JUPYTERLAB=$GUIDE_JUPYTERLAB BENCH_IPYWIDGETS=$GUIDE_IPYWIDGETS \
  BENCH_CHP=$GUIDE_CHP bash "$(dirname "$0")/guide_install.sh"
cd /

say "The reverse-proxy part's line in the config: the hub at /jupyter, behind nginx"
cat >> /opt/jupyterhub/etc/jupyterhub/jupyterhub_config.py <<'CONF'
c.JupyterHub.bind_url = 'http://:8000/jupyter'
CONF
systemctl restart jupyterhub.service

say "The shared kernel, in the hub's prefix (the guide's option 1)"
/opt/jupyterhub/bin/python3 -m ipykernel install --prefix=/opt/jupyterhub/ --name 'python' --display-name "Python (default)"

say "nginx in front, at /jupyter/, next to the admin's own /wiki/"
apt-get install -y -qq nginx
mkdir -p /var/www/wiki
echo "<h1>admin's wiki</h1>" > /var/www/wiki/index.html
python3 - /etc/nginx/sites-available/default <<'PY'
"""Edit the stock default site as the guide says: its map before the server block, its
location (verbatim) in the server block, and the admin's own location after it."""
import re
import sys

MAP = """map $http_upgrade $connection_upgrade {
        default upgrade;
        '' close;
    }

"""
LOCATIONS = """
  location /jupyter/ {
    # NOTE important to also set base url of jupyterhub to /jupyter in its config
    proxy_pass http://127.0.0.1:8000;

    proxy_redirect   off;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;

    # websocket headers
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;

  }

  location /wiki/ {
    alias /var/www/wiki/;
  }
"""

path = sys.argv[1]
text = open(path).read()
server = re.search(r"^[ \t]*server[ \t]*\{", text, re.M)
if not server:
    sys.exit(f"{path}: no server block")
name = re.compile(r"^[ \t]*server_name _;[ \t]*\n", re.M).search(text, server.end())
if not name:
    sys.exit(f"{path}: no 'server_name _;' in its first server block")
text = text[:server.start()] + MAP + text[server.start():name.end()] + LOCATIONS + text[name.end():]
open(path, "w").write(text)
PY
nginx -t
systemctl restart nginx

say "Wait for the hub behind nginx"
/opt/jupyterhub/bin/python3 - <<'PY'
import sys
import time
import urllib.request

url = "http://127.0.0.1/jupyter/hub/login"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for loopback
deadline, last = time.monotonic() + 180, None
while time.monotonic() < deadline:
    try:
        with opener.open(url, timeout=10) as r:
            if r.status == 200:
                print(f"{url}: 200")
                sys.exit(0)
            last = r.status
    except Exception as exc:  # not up yet: refused, 502 from nginx, ...
        last = exc
    time.sleep(2)
sys.exit(f"{url} did not answer 200 within 180 s (last: {last!r})")
PY
