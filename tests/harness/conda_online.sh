#!/usr/bin/env bash
# The conda_system role against the real network, and what can be checked without it.
#
#   tests/harness/conda_online.sh           `molecule test -s conda_online` (the real Miniforge
#                                           installer and conda-forge) where both answer; where
#                                           not, print "SKIPPED: ..." with the URL and exit 0
#   tests/harness/conda_online.sh validate  the role's checks of its settings: each bad setting
#                                           stops it with its message, good ones pass, the
#                                           rendered .condarc (on the controller, ~30 s)
#   tests/harness/conda_online.sh offline   validate, then the failure paths without conda's
#                                           network (installer or key not reachable, a wrong
#                                           sha256, a prefix in use, a key or repository apt must
#                                           refuse) on a throwaway container, bmjh-conda-check
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/harness/lib.sh
. "$root/tests/harness/lib.sh"
export PATH=$root/.venv/bin:$PATH
export BMJH_CACHE_DIR=${BMJH_CACHE_DIR:-$root/.cache/containers}
export ANSIBLE_FORCE_COLOR=false PY_COLORS=0 NO_COLOR=1
log() { printf '[conda_online] %s\n' "$*" >&2; }

online() {
  # The installer the role would download for this machine (the containers share its
  # architecture), and the channel it would build environments from.
  local version arch url
  version=$(sed -n 's/^conda_system_miniforge_version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' \
    "$root/roles/conda_system/defaults/main.yml")
  arch=$(uname -m)
  for url in https://conda.anaconda.org/conda-forge/noarch/repodata.json \
    "https://github.com/conda-forge/miniforge/releases/download/$version/Miniforge3-$version-Linux-$arch.sh"; do
    # One byte, following redirects (GitHub sends release assets from another host).
    if ! curl -fsSL --max-time 10 -r 0-0 -o /dev/null "$url" 2>/dev/null; then
      echo "SKIPPED: conda-forge not reachable ($url)"
      exit 0
    fi
  done
  "$root/tests/harness/docker.sh"
  "$root/tests/harness/images.sh" debian12
  mkdir -p "$BMJH_CACHE_DIR/apt-debian12"
  cd "$root"
  exec molecule test -s conda_online
}

validate() {
  local dir=$root/molecule/conda_online/offline out=$root/.cache/conda_online-validate.log
  log "checking the role's settings (validation cases on the controller)"
  ANSIBLE_CONFIG=$root/tests/harness/ansible.cfg ANSIBLE_FORKS=25 \
    ansible-playbook -i "$dir/cases.yml" "$dir/validate.yml" >"$out" 2>&1 \
    || { cat "$out"; log "validation cases FAILED"; exit 1; }
  log "validation cases passed: $(grep -c '^ok: .* => {$' "$out") cases, .condarc for 3 conda versions (log: $out)"
}

offline() {
  local dir=$root/molecule/conda_online/offline name=bmjh-conda-check image=debian12 state
  validate
  export ANSIBLE_CONFIG=$root/tests/harness/ansible.cfg
  "$root/tests/harness/docker.sh"
  "$root/tests/harness/images.sh" "$image"
  mkdir -p "$BMJH_CACHE_DIR/apt-$image"
  state=$(mktemp -d)
  # Expanded now: the function's locals are gone when the shell exits.
  # shellcheck disable=SC2064
  trap "docker rm -f '$name' >/dev/null 2>&1 || true; rm -rf '$state'" EXIT
  docker rm -f "$name" >/dev/null 2>&1 || true
  log "starting $name from bmjh/$image"
  local run_args; mapfile -t run_args < <(systemd_run_args "$image")
  docker run -d --name "$name" --hostname "$name" \
    -v "$BMJH_CACHE_DIR/apt-$image:/var/cache/apt/archives" \
    "${run_args[@]}" >/dev/null
  cat >"$state/hosts.yml" <<INV
all:
  hosts:
    $name:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
INV
  log "checking the failure paths on $name"
  ansible-playbook -i "$state/hosts.yml" "$dir/failures.yml"
}

mkdir -p "$root/.cache"
case ${1:-} in
  "") online ;;
  validate) validate ;;
  offline) offline ;;
  *) echo "usage: $0 [validate|offline]" >&2; exit 2 ;;
esac
