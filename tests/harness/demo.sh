#!/usr/bin/env bash
# `make demo`: the whole site on a local systemd container, as an admin would get it.
#
#   tests/harness/demo.sh up     build/start the container, apply playbooks/site.yml, print URL + login
#   tests/harness/demo.sh down   remove the container
#
# BMJH_DEMO_PORT (default 8443) is the HTTPS port on 127.0.0.1; BMJH_DEMO_IMAGE (default
# debian12; also debian13, ubuntu2404, ubuntu2604).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/harness/lib.sh
. "$root/tests/harness/lib.sh"
name=bmjh-demo
port=${BMJH_DEMO_PORT:-8443}
image=${BMJH_DEMO_IMAGE:-debian12}
cache=${BMJH_CACHE_DIR:-$root/.cache/containers}
state=$root/.cache/demo
log() { printf '[demo] %s\n' "$*" >&2; }

down() {
  if docker inspect "$name" >/dev/null 2>&1; then
    docker rm -f "$name" >/dev/null && log "removed $name"
  else
    log "no demo container"
  fi
}

up() {
  "$root/tests/harness/docker.sh"
  "$root/tests/harness/images.sh" "$image"
  mkdir -p "$cache/pip" "$cache/npm" "$cache/apt-$image" "$state"
  if ! docker inspect "$name" >/dev/null 2>&1; then
    log "starting $name from bmjh/$image"
    local run_args; mapfile -t run_args < <(systemd_run_args "$image")
    docker run -d --name "$name" --hostname "$name" \
      -v "$cache/pip:/root/.cache/pip" -v "$cache/npm:/root/.npm" \
      -v "$cache/apt-$image:/var/cache/apt/archives" \
      -p "127.0.0.1:$port:443" \
      "${run_args[@]}" >/dev/null
  else
    docker start "$name" >/dev/null
  fi
  # A password for the demo user, made once and kept beside the checkout.
  [[ -s $state/password ]] || python3 -c 'import secrets; print(secrets.token_urlsafe(12))' > "$state/password"
  chmod 600 "$state/password"
  cat > "$state/hosts.yml" <<INV
jupyterhub:
  hosts:
    $name:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
INV
  log "applying playbooks/site.yml (the first run downloads packages: a few minutes)"
  cd "$root"
  ANSIBLE_CONFIG=$root/tests/harness/ansible.cfg ansible-playbook -i "$state/hosts.yml" tests/harness/demo.yml \
    -e "bmjh_demo_password_file=$state/password"
  cat <<MSG

  JupyterHub is running:   https://127.0.0.1:$port/jupyter/   (self-signed certificate)
  Log in as:               demo
  Password:                $(cat "$state/password")

  Shell in the container:  docker exec -it $name bash
  Remove it:               make demo-clean
MSG
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
