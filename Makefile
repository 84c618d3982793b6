# baremetal.jupyterhub: everything a developer or CI runs.
#
#   make demo        the whole site on a local systemd container; prints URL and login
#   make demo-clean  remove it
#   make test        everything CI runs: lint, sanity, unit, e2e (molecule)
#   make bench       a benchmark, never part of make test (docs/performance.md)
#
# Needs: Debian/Ubuntu, Python 3.11+, root (or a Docker engine you may use).
# Tools are installed into .venv; a Docker engine is installed and started if none answers.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
STAMP := $(VENV)/.installed
export PATH := $(VENV)/bin:$(PATH)
export BMJH_CACHE_DIR ?= $(CURDIR)/.cache/containers
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
export NO_COLOR := 1

# Scenarios `make e2e` runs, in order; "a+b" runs a and b at the same time (2 cores: the
# whole suite fits CI's hour this way). See tests/harness/e2e.sh.
E2E_SCENARIOS ?= default ssh+role_import

# Options for bench/run.py, e.g. BENCH_ARGS=--quick (see bench/run.py --help).
BENCH_ARGS ?=

.PHONY: help demo demo-clean bench test lint sanity unit e2e images docker venv clean

help:
	@sed -n '3,9p' Makefile

$(STAMP): requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found"; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

docker:
	tests/harness/docker.sh

images: docker
	tests/harness/images.sh

demo: $(STAMP)
	tests/harness/demo.sh up

demo-clean:
	tests/harness/demo.sh down

lint: $(STAMP)
	ansible-lint --profile production
	$(VENV)/bin/python tests/harness/role_docs.py --check
	tests/harness/publish_check.sh

sanity: $(STAMP)
	tests/harness/sanity.sh

unit: $(STAMP)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit

e2e: $(STAMP) images
	tests/harness/conda_online.sh validate
	tests/harness/conda_online.sh
	tests/harness/browser.sh
	tests/harness/e2e.sh $(E2E_SCENARIOS)

test: lint sanity unit e2e

clean: demo-clean
	rm -rf $(VENV) .cache tests/output

bench: $(STAMP) images
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)
