#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection. ansible-test wants the collection at
# .../ansible_collections/<namespace>/<name>, so the tracked files (as they are in the
# work tree, committed or not) are copied into such a tree under a temporary directory.
#
#   tests/harness/sanity.sh [ansible-test sanity options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# The shellcheck sanity test is skipped (with a warning) without shellcheck.
if ! command -v shellcheck >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/ansible_collections/baremetal/jupyterhub
mkdir -p "$dest"
cd "$root"
# Tracked and new (not ignored) files; not the playbook-adjacent symlink back to the root.
git ls-files -z --cached --others --exclude-standard \
  | grep -zv '^playbooks/collections/' \
  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
  | tar --null -T - -cf - | tar -C "$dest" -xf -
cd "$dest"
git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity
python=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ansible-test bootstraps pip in the venvs of its tests with a get-pip script from
# ci-files.testing.ansible.com, which is not reachable from every network. Where that
# script is not cached, cache a stand-in that does the same job with the standard
# library's ensurepip and then pip itself (PyPI is reachable).
pip_version=$(python3 - <<'PY'
import inspect, re
import ansible_test._internal.python_requirements as r
m = re.search(r"pip='([0-9.]+)'", inspect.getsource(r.get_venv_packages))
print(m.group(1) if m else "")
PY
)
if [[ -n $pip_version ]]; then
  bootstrap=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
  if [[ ! -s $bootstrap ]] && ! curl -fsS -m 10 -o "$bootstrap.download" \
       "https://ci-files.testing.ansible.com/ansible-test/get-pip-$pip_version.py" 2>/dev/null; then
    mkdir -p "$(dirname "$bootstrap")"
    cat > "$bootstrap" <<'PY'
# Stand-in for get-pip.py, written by tests/harness/sanity.sh: pip from ensurepip,
# then pip installs what ansible-test asked for (its pinned pip, setuptools, wheel).
import ensurepip
import os
import subprocess
import sys

env = dict(os.environ)  # ensurepip points PIP_CONFIG_FILE at /dev/null in os.environ
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]  # get-pip's own options
subprocess.check_call([sys.executable, "-m", "pip", "install", *args], env=env)
PY
  elif [[ -s $bootstrap.download ]]; then
    mv "$bootstrap.download" "$bootstrap"
  fi
fi
exec ansible-test sanity --venv --python "$python" --color no "$@"
