#!/usr/bin/env bash
# "raw": what the site playbook installs, done directly by a shell script — the floor
# for a cold install. Run inside a fresh, prepared bench container as root; the
# versions come from the roles' defaults (bench/run.py passes them in):
#
#   BENCH_JUPYTERHUB BENCH_JUPYTERLAB BENCH_IPYWIDGETS BENCH_IDLE_CULLER BENCH_CHP
#   BENCH_CONFIGURE=1   also the minimal configuration of the same site (kernel, proxy
#                       service, hub config and unit, nginx with a self-signed pair) and
#                       start it, timed apart from the installs
#
# Each step prints "@@step <phase> <name> <seconds>" for bench/run.py.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${BENCH_JUPYTERHUB:?}" "${BENCH_JUPYTERLAB:?}" "${BENCH_IPYWIDGETS:?}" "${BENCH_IDLE_CULLER:?}" "${BENCH_RFC3987:?}" "${BENCH_CHP:?}"
hub=/opt/jupyterhub
env=/opt/jupyter-envs/python
chp=/opt/configurable-http-proxy

phase=install
step() {
  local name=$1 start end
  shift
  start=$EPOCHREALTIME
  "$@"
  end=$EPOCHREALTIME
  awk -v p="$phase" -v n="$name" -v a="$start" -v b="$end" 'BEGIN { printf "@@step %s %s %.3f\n", p, n, b - a }'
}

# --- the installs: the same packages, versions and flags as the roles ----------------
step apt-update apt-get update -qq
step apt-python apt-get install -y -qq python3 python3-venv python3-packaging
step apt-node apt-get install -y -qq --no-install-recommends nodejs npm
step apt-nginx apt-get install -y -qq nginx openssl
step hub-venv python3 -m venv "$hub"
step hub-pip "$hub/bin/pip" install -q --disable-pip-version-check wheel \
  "jupyterhub==$BENCH_JUPYTERHUB" "jupyterlab==$BENCH_JUPYTERLAB" "ipywidgets==$BENCH_IPYWIDGETS" \
  "rfc3987==$BENCH_RFC3987" "jupyterhub-idle-culler==$BENCH_IDLE_CULLER"
step env-venv python3 -m venv "$env"
step env-pip "$env/bin/pip" install -q --disable-pip-version-check ipykernel
step npm-chp env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  npm install --global --prefix "$chp" --no-audit --no-fund --no-update-notifier --loglevel=error \
  "configurable-http-proxy@$BENCH_CHP"

[[ ${BENCH_CONFIGURE:-0} == 1 ]] || exit 0

# --- the same site, configured by hand (minimal) and started -------------------------
phase=configure
kernel() {
  "$env/bin/python" -m ipykernel install --prefix "$hub" --name python3 --display-name "Python (default)" >/dev/null
  chmod -R go-w "$env"
}
proxy() {
  useradd --system --shell /usr/sbin/nologin --home-dir /nonexistent --no-create-home jupyterhub-proxy
  install -d -m 0700 /etc/configurable-http-proxy
  (umask 077; printf 'CONFIGPROXY_AUTH_TOKEN=%s\n' "$(openssl rand -hex 32)" > /etc/configurable-http-proxy/auth.env)
  cat > /etc/systemd/system/configurable-http-proxy.service <<UNIT
[Unit]
Description=configurable-http-proxy
After=network.target
[Service]
User=jupyterhub-proxy
EnvironmentFile=/etc/configurable-http-proxy/auth.env
ExecStart=/usr/bin/node $chp/bin/configurable-http-proxy --ip 127.0.0.1 --port 8000 --api-ip 127.0.0.1 --api-port 8001 --default-target http://127.0.0.1:8081 --error-target http://127.0.0.1:8081/jupyter/hub/error --no-x-forward
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
}
hubconf() {
  install -d -m 0700 /var/lib/jupyterhub
  (umask 077; openssl rand -hex 32 > /var/lib/jupyterhub/jupyterhub_cookie_secret)
  mkdir -p "$hub/etc/jupyterhub" "$hub/etc/systemd"
  cat > "$hub/etc/jupyterhub/jupyterhub_config.py" <<CONF
c = get_config()
c.JupyterHub.base_url = "/jupyter/"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:8081"
c.JupyterHub.db_url = "sqlite:////var/lib/jupyterhub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/var/lib/jupyterhub/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
c.ConfigurableHTTPProxy.auth_token = open("/etc/configurable-http-proxy/auth.env").read().strip().partition("=")[2]
c.JupyterHub.cleanup_servers = False
c.Authenticator.allow_all = True
c.Spawner.default_url = "/lab"
CONF
  cat > "$hub/etc/systemd/jupyterhub.service" <<UNIT
[Unit]
Description=JupyterHub
After=network.target configurable-http-proxy.service
Wants=configurable-http-proxy.service
[Service]
Environment="PATH=/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:$hub/bin"
WorkingDirectory=/var/lib/jupyterhub
ExecStart=$hub/bin/jupyterhub -f $hub/etc/jupyterhub/jupyterhub_config.py
KillMode=process
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf "$hub/etc/systemd/jupyterhub.service" /etc/systemd/system/jupyterhub.service
}
nginxconf() {
  install -d -m 0700 /etc/nginx/jupyterhub-tls
  OPENSSL_CONF=/dev/null openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 825 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout /etc/nginx/jupyterhub-tls/key.pem -out /etc/nginx/jupyterhub-tls/cert.pem 2>/dev/null
  cat > /etc/nginx/sites-available/jupyterhub.conf <<'SITE'
map $http_upgrade $connection_upgrade { default upgrade; '' close; }
server {
    listen 443 ssl http2 default_server;
    ssl_certificate /etc/nginx/jupyterhub-tls/cert.pem;
    ssl_certificate_key /etc/nginx/jupyterhub-tls/key.pem;
    location /jupyter/ {
        proxy_pass http://127.0.0.1:8000;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_buffering off;
    }
}
server { listen 80 default_server; return 301 https://$host$request_uri; }
SITE
  rm -f /etc/nginx/sites-enabled/default
  ln -sf /etc/nginx/sites-available/jupyterhub.conf /etc/nginx/sites-enabled/jupyterhub.conf
  nginx -t -q
}
start() {
  systemctl daemon-reload
  systemctl enable --now configurable-http-proxy.service jupyterhub.service 2>/dev/null
  systemctl reload-or-restart nginx.service
}
step kernel kernel
step proxy proxy
step hub-config hubconf
step nginx nginxconf
step start start
