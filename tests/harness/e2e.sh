#!/usr/bin/env bash
# Run molecule scenarios:  e2e.sh default ssh+role_import
#
# Words run one after another; scenarios joined by "+" run at the same time (their
# containers, ports and ephemeral dirs are separate). The default scenario runs alone:
# its fault tests time how fast services come back, which a busy CPU would distort.
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

failed=()
for group in "$@"; do
  IFS=+ read -r -a scenarios <<<"$group"
  names=(); for s in "${scenarios[@]}"; do names+=("$s [$(distros "$s")]"); done
  echo "=== molecule test: ${names[*]}$([ ${#scenarios[@]} -gt 1 ] && echo ' (at the same time)')"
  pids=()
  for s in "${scenarios[@]}"; do
    # Each scenario's summary is printed in one piece when it ends.
    rm -f "tests/artifacts/molecule-$s.log"
    ( out=$(run_one "$s") && rc=0 || rc=$?; printf '%s\n' "$out"; exit "$rc" ) &
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
  echo "=== failed: ${failed[*]}"
  exit 1
fi
