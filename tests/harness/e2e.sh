#!/usr/bin/env bash
# Run molecule scenarios:  e2e.sh default ssh,adopt+role_import
#
# Words run one after another; lanes joined by "+" run at the same time (their
# containers, ports and ephemeral dirs are separate); scenarios joined by "," run one
# after another in their lane. The default scenario runs alone: its fault tests time how
# fast services come back, which a busy CPU would distort.
# Each scenario's full log goes to tests/artifacts/molecule-<scenario>.log; a summary is
# printed, and the end of the log of a scenario that failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p tests/artifacts "${BMJH_CACHE_DIR:?}"


# The distributions a scenario runs on: the images its molecule.yml names.
distros() { grep -oE 'image: bmjh/[a-z0-9]+' "molecule/$1/molecule.yml" | cut -d/ -f2 | paste -sd, -; }

run_one() {
  local s=$1 log=tests/artifacts/molecule-$1.log start=$SECONDS rc=0
  BMJH_RUN_LOGS=$PWD/$log molecule test -s "$s" >"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    grep -E '^(INFO|WARNING|ERROR)|RECAP|: ok=|[0-9]+ passed|== site run with' "$log" | grep -v 'Molecule scenarios should migrate' || true
    echo "=== $s passed in $((SECONDS - start)) s"
  else
    echo "=== $s FAILED after $((SECONDS - start)) s; the end of its log ($log):"
    tail -n 300 "$log"
  fi
  return "$rc"
}

# The collection, installed from this tree as molecule's prerun installs it. A scenario
# that runs second in a lane sets `prerun: false` (its reinstall would race the other
# lane's run) and uses this one.
ansible-galaxy collection install --force . >/dev/null

# A lane: its scenarios one after another, each summary printed in one piece when it ends.
run_lane() {
  local s out rc
  for s in ${1//,/ }; do
    out=$(run_one "$s") && rc=0 || rc=$?
    printf '%s\n' "$out"
    [ "$rc" = 0 ] || return "$rc"
  done
}

failed=()
for group in "$@"; do
  IFS=+ read -r -a scenarios <<<"$group"
  names=(); for s in "${scenarios[@]}"; do names+=("${s//,/ then } [$(for x in ${s//,/ }; do distros "$x"; done | paste -sd, -)]"); done
  echo "=== molecule test: ${names[*]}$([ ${#scenarios[@]} -gt 1 ] && echo ' (at the same time)')"
  pids=()
  for lane in "${scenarios[@]}"; do
    s=${lane%%,*}
    for x in ${lane//,/ }; do rm -f "tests/artifacts/molecule-$x.log" "tests/artifacts/e2e-$x.xml"; done
    ( run_lane "$lane" ) &
    pids+=("$!")
    # molecule's prerun reinstalls the collection into ~/.ansible/collections with
    # --force: two at once race on its files. Start the next once this one is past it.
    for _ in $(seq 180); do
      grep -qs -e '> destroy\] Executing' -e '> create\] Executing' "tests/artifacts/molecule-$s.log" && break
      kill -0 "$!" 2>/dev/null || break
      sleep 1
    done
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${scenarios[$i]}")
  done
  [ ${#failed[@]} -eq 0 ] || break
done
if [ ${#failed[@]} -gt 0 ]; then
  # What failed, last, where a CI page that shows only the end of the output shows it:
  # the failed tasks and the failed end-to-end tests of each scenario's log.
  for lane in "${failed[@]}"; do
    for s in ${lane//,/ }; do
      log=tests/artifacts/molecule-$s.log
      [ -f "$log" ] || continue
      echo "=== what failed in $s ($log):"
      sed -E 's/\x1b\[[0-9;]*m//g; s/^[^a-zA-Z"]*//' "$log" |
        grep -aE '^(fatal|failed): \[|^ERROR +Ansible return code' | cut -c1-400 | tail -n 10 || true
      # The end-to-end tests that failed, from pytest's report (the log wraps its lines).
      [ ! -f "tests/artifacts/e2e-$s.xml" ] || python3 - "tests/artifacts/e2e-$s.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).iter("testcase"):
    for bad in list(case.iter("failure")) + list(case.iter("error")):
        print(f"FAILED {case.get('name')}: {(bad.get('message') or '').splitlines()[0][:300] if bad.get('message') else ''}")
PY
    done
  done
  echo "=== failed: ${failed[*]}"
  exit 1
fi
