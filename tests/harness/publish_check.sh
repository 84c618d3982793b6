#!/usr/bin/env bash
# The checks a release goes through, on what would be published:
#   - antsibull-changelog lint (changelogs/), and CHANGELOG.md as generated from changelogs/;
#   - the collection built as `ansible-galaxy collection build` builds it, and Galaxy's own
#     importer (galaxy-importer) run on that tarball: it fails on an import error, and so does
#     this script on any ERROR line it prints.
# galaxy-importer's ansible-test step is off (it wants a container engine of its own;
# `make sanity` runs ansible-test); its ansible-lint step runs.
#
#   tests/harness/publish_check.sh        (from `make lint`, with .venv/bin on PATH)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

antsibull-changelog lint
# CHANGELOG.md must be what antsibull-changelog makes of changelogs/changelog.yaml.
ANSIBLE_COLLECTIONS_PATH=$root/playbooks/collections antsibull-changelog generate --output "$tmp/CHANGELOG.md" --output-format md
if ! diff -u CHANGELOG.md "$tmp/CHANGELOG.md" >"$tmp/changelog.diff"; then
  cat "$tmp/changelog.diff"
  echo "CHANGELOG.md is not what antsibull-changelog generates from changelogs/: run antsibull-changelog generate" >&2
  exit 1
fi

ansible-galaxy collection build --output-path "$tmp/build" >/dev/null
tarball=$(ls "$tmp"/build/*.tar.gz)
cat >"$tmp/galaxy-importer.cfg" <<'CFG'
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
RUN_FLAKE8 = False
CFG
(cd "$tmp" && GALAXY_IMPORTER_CONFIG=$tmp/galaxy-importer.cfg python -m galaxy_importer.main "$tarball") | tee "$tmp/importer.log"
if grep -E '^(ERROR|Error)' "$tmp/importer.log"; then
  echo "galaxy-importer reported errors for $(basename "$tarball")" >&2
  exit 1
fi
echo "publish check: changelog lint clean, CHANGELOG.md up to date, galaxy-importer: 0 errors ($(basename "$tarball"))"
