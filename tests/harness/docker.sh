#!/usr/bin/env bash
# Make sure a Docker engine answers: use the one there is, otherwise (as root on
# Debian/Ubuntu) install docker.io and start dockerd in the background.
set -euo pipefail
log() { printf '[docker] %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 && exit 0

if [[ $(id -u) != 0 ]]; then
  log "no Docker engine answers and this is not root: start one (or add yourself to the docker group) and retry"
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  command -v apt-get >/dev/null || { log "no dockerd and no apt-get: install a Docker engine first"; exit 1; }
  log "installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
# With systemd running, let it own the engine; otherwise start dockerd ourselves.
if [[ -d /run/systemd/system ]] && systemctl start docker 2>/dev/null; then
  :
else
  log "starting dockerd (log: /var/log/bmjh-dockerd.log)"
  nohup dockerd >/var/log/bmjh-dockerd.log 2>&1 &
fi
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && { log "engine ready"; exit 0; }
  sleep 1
done
log "dockerd did not answer within 60 s; see /var/log/bmjh-dockerd.log"
exit 1
