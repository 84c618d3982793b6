#!/usr/bin/env bash
# The bare-metal guide's plain setup (Part 1), step by step as the guide gives it, for
# the hub-latency comparison: a venv with jupyterhub + jupyterlab + ipywidgets, nodejs
# and npm from the distribution, `npm install -g configurable-http-proxy`, the generated
# jupyterhub_config.py with `c.Spawner.default_url = '/lab'` (plus `allow_all`, without
# which JupyterHub 5+ lets nobody in), the guide's systemd unit. The hub starts its own
# proxy and serves on port 8000; no nginx.
#
# Versions are pinned to the site's (bench/run.py passes them in), so that the
# comparison is of the two setups, not of two releases:
#   BENCH_JUPYTERHUB BENCH_JUPYTERLAB BENCH_IPYWIDGETS BENCH_CHP
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${BENCH_JUPYTERHUB:?}" "${BENCH_JUPYTERLAB:?}" "${BENCH_IPYWIDGETS:?}" "${BENCH_CHP:?}"

step() {
  local name=$1 start end
  shift
  start=$EPOCHREALTIME
  "$@"
  end=$EPOCHREALTIME
  awk -v n="$name" -v a="$start" -v b="$end" 'BEGIN { printf "@@step guide %s %.3f\n", n, b - a }'
}

config() {
  mkdir -p /opt/jupyterhub/etc/jupyterhub/
  cd /opt/jupyterhub/etc/jupyterhub/
  /opt/jupyterhub/bin/jupyterhub --generate-config >/dev/null
  cat >> jupyterhub_config.py <<'CONF'

c.Spawner.default_url = '/lab'
# JupyterHub 5+ lets nobody in unless told (not in the guide, written before 5.0).
c.Authenticator.allow_all = True
CONF
}

unit() {
  mkdir -p /opt/jupyterhub/etc/systemd
  cat > /opt/jupyterhub/etc/systemd/jupyterhub.service <<'UNIT'
[Unit]
Description=JupyterHub
After=syslog.target network.target

[Service]
User=root
Environment="PATH=/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/opt/jupyterhub/bin"
ExecStart=/opt/jupyterhub/bin/jupyterhub -f /opt/jupyterhub/etc/jupyterhub/jupyterhub_config.py

[Install]
WantedBy=multi-user.target
UNIT
  ln -s /opt/jupyterhub/etc/systemd/jupyterhub.service /etc/systemd/system/jupyterhub.service
  systemctl daemon-reload
  systemctl enable jupyterhub.service 2>/dev/null
  systemctl start jupyterhub.service
}

step apt-update apt-get update -qq
# The guide assumes Ubuntu's python3 with venv; Debian keeps venv apart.
step apt-python apt-get install -y -qq python3 python3-venv
step venv python3 -m venv /opt/jupyterhub/
step pip-wheel /opt/jupyterhub/bin/python3 -m pip install -q --disable-pip-version-check wheel
step pip-hub-lab /opt/jupyterhub/bin/python3 -m pip install -q --disable-pip-version-check \
  "jupyterhub==$BENCH_JUPYTERHUB" "jupyterlab==$BENCH_JUPYTERLAB"
step pip-ipywidgets /opt/jupyterhub/bin/python3 -m pip install -q --disable-pip-version-check "ipywidgets==$BENCH_IPYWIDGETS"
step apt-node apt-get install -y -qq nodejs npm
step npm-chp env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  npm install -g --no-audit --no-fund --no-update-notifier --loglevel=error "configurable-http-proxy@$BENCH_CHP"
step config config
step unit unit
