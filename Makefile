# baremetal.jupyterhub: everything a developer or CI runs.
#
#   make demo        the whole site on a local systemd container; prints URL and login
#   make demo-clean  remove it
#   make test        everything CI runs: lint, sanity, unit (on the newest ansible-core
#                    and on the floor, 2.16), e2e (molecule)
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
# The oldest ansible-core supported (requirements-floor.txt), for sanity and unit tests.
VENV_FLOOR := $(CURDIR)/.venv-floor
STAMP_FLOOR := $(VENV_FLOOR)/.installed
export PATH := $(VENV)/bin:$(PATH)
export BMJH_CACHE_DIR ?= $(CURDIR)/.cache/containers
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
export NO_COLOR := 1

# Scenarios `make e2e` runs, in order; "a+b" runs a and b at the same time, "a,b" runs b
# after a in the same lane (2 cores: the whole suite fits CI's budget this way). See
# tests/harness/e2e.sh.
E2E_SCENARIOS ?= default ssh,adopt+role_import,slurm

# Options for bench/run.py, e.g. BENCH_ARGS=--quick (see bench/run.py --help).
BENCH_ARGS ?=

.PHONY: help demo demo-clean bench test lint sanity unit sanity-floor unit-floor e2e images docker venv venv-floor clean

help:
	@sed -n '3,9p' Makefile

$(STAMP): requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found"; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(STAMP_FLOOR): requirements-floor.txt | $(STAMP)
	$(PYTHON) -m venv $(VENV_FLOOR)
	$(VENV_FLOOR)/bin/pip install -q --disable-pip-version-check -r requirements-floor.txt
	touch $@

venv: $(STAMP)

venv-floor: $(STAMP_FLOOR)

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
	@echo "== ansible-test sanity on $$($(VENV)/bin/ansible --version 2>/dev/null | head -1)"
	tests/harness/sanity.sh

unit: $(STAMP)
	@echo "== unit tests on $$($(VENV)/bin/ansible --version 2>/dev/null | head -1)"
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit

# The same on ansible-core 2.16 (the floor meta/runtime.yml promises).
sanity-floor: $(STAMP_FLOOR)
	@echo "== ansible-test sanity on $$($(VENV_FLOOR)/bin/ansible --version 2>/dev/null | head -1)"
	PATH=$(VENV_FLOOR)/bin:$$PATH tests/harness/sanity.sh

unit-floor: $(STAMP_FLOOR)
	@echo "== unit tests on $$($(VENV_FLOOR)/bin/ansible --version 2>/dev/null | head -1)"
	$(VENV_FLOOR)/bin/python -m pytest -q -p no:cacheprovider tests/unit

# The ssh scenario's admin runs ansible-core 2.16 from the floor venv.
e2e: $(STAMP) $(STAMP_FLOOR) images
	tests/harness/conda_online.sh validate
	tests/harness/conda_online.sh
	tests/harness/browser.sh
	tests/harness/e2e.sh $(E2E_SCENARIOS)

test: lint sanity unit sanity-floor unit-floor e2e

clean: demo-clean
	rm -rf $(VENV) $(VENV_FLOOR) .cache tests/output

bench: $(STAMP) images
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)
