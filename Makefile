# The verbs of the project. A newcomer needs two: `make run` and `make test`.
# Everything else is installed by these targets themselves (uv, Python packages, Kafka's
# jars, FerretDB built from its Go module), cached outside the repo after the first time.

SHELL := /bin/bash
UV_VERSION := 0.13.9
# uv itself, pinned, in a virtualenv of its own under the cache (the machine's Python suffices).
UV_HOME ?= $(or $(RINNOVO_CACHE_DIR),$(HOME)/.cache/rinnovo)/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
PYTEST_ARGS ?=
BENCH_ARGS ?=
N ?= 10
# The browser tests drive Debian's Chromium (Playwright's own browser builds cannot be
# downloaded here); root installs it, anyone else through sudo.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup run test unit integration e2e cluster-test deploy-check faults-soak lint format contracts servers clean-data bench bench-quick chromium browser portal-screenshots bench-fullquery

help:
	@echo "make run        set up and run the whole system on local Kafka + FerretDB"
	@echo "                (REGISTRY=1: also a local schema registry, Apicurio Registry)"
	@echo "make test       set up and run every test (unit, contract, integration)"
	@echo "make unit       only the tests that need no server"
	@echo "make e2e        only the whole-system journeys and fault tests (tests/e2e, tests/cluster)"
	@echo "make faults-soak N=10   the fault tests N times in a row; how many passed"
	@echo "make browser    only the portal's tests in Chromium (tests/browser)"
	@echo "make cluster-test  the scale-out run: 3 Kafka brokers, service replicas, faults"
	@echo "make deploy-check  the image, compose and Kubernetes manifests against the code"
	@echo "make lint       ruff and mypy"
	@echo "make contracts  export JSON Schemas and AsyncAPI documents, publish compatible versions"
	@echo "make servers    install the local Kafka, FerretDB and schema registry (done on demand anyway)"
	@echo "make bench      benchmarks on the real servers (BENCH_ARGS=--quick for a smoke run)"
	@echo "make bench-fullquery BEFORE=path/to/rinnovo-ferretdb   the scheduler's full query, that build vs this one"
	@echo "make clean-data delete the data kept between runs (~/.cache/rinnovo/data)"

$(UV):
	python3 -m venv "$(UV_HOME)"
	"$(UV_HOME)/bin/python" -m pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV)
	$(UV) sync --frozen

run: setup
	$(UV) run rinnovo-devstack up $(if $(REGISTRY),--registry) -- rinnovo run all

# Debian's chromium, only when it is missing; Playwright for Python is a dev package (uv.lock).
chromium:
	@test -x $(CHROMIUM) || { \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

browser: setup servers chromium
	$(UV) run pytest -m browser $(PYTEST_ARGS)

# The screenshots of docs/portal.md, taken by the browser tests themselves.
portal-screenshots: setup servers chromium
	RINNOVO_PORTAL_SCREENSHOTS=$(CURDIR)/docs/portal $(UV) run pytest tests/browser/test_every_page.py $(PYTEST_ARGS)

test: setup servers chromium
	cd deploy/local/ferretdb && CGO_ENABLED=0 go test ./...
	$(UV) run pytest $(PYTEST_ARGS)

unit: setup
	$(UV) run pytest -m "not integration" $(PYTEST_ARGS)

integration: setup servers
	$(UV) run pytest -m integration $(PYTEST_ARGS)

e2e: setup servers
	$(UV) run pytest -m "e2e or cluster" $(PYTEST_ARGS)

# The scale-out run prints its account (-s): renewals, milestones, kills, restarts, time.
cluster-test: setup servers
	$(UV) run pytest tests/cluster -s $(PYTEST_ARGS)

deploy-check: setup
	$(UV) run pytest tests/deploy $(PYTEST_ARGS)

# Not part of CI: a flaky fault test shows itself only over many runs.
faults-soak: setup servers
	@passed=0; for i in $$(seq 1 $(N)); do \
	  if $(UV) run pytest tests/e2e/test_faults.py -q -p no:cacheprovider $(PYTEST_ARGS); \
	  then passed=$$((passed + 1)); fi; \
	  echo "faults-soak: run $$i of $(N) done, $$passed passed"; \
	done; \
	echo "faults-soak: $$passed of $(N) runs passed"; test $$passed -eq $(N)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: setup
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# Writes the exports and publishes each changed event as the version its class declares, if
# that version is compatible with every earlier one; fails naming field and rule otherwise.
contracts: setup
	RINNOVO_DEV_MODE=true $(UV) run rinnovo contracts export

servers: setup
	$(UV) run rinnovo-devstack install

bench: $(UV) servers
	$(UV) sync --frozen --group bench
	RINNOVO_DEV_MODE=true PYTHONPATH=bench $(UV) run --no-sync python -m rinnovo_bench $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench BENCH_ARGS="--quick $(BENCH_ARGS)"

# The scheduler's full query on the same stored services, served by another FerretDB build
# (BEFORE=path to its rinnovo-ferretdb binary) and by this checkout's.
bench-fullquery: $(UV) servers
	$(UV) sync --frozen --group bench
	PYTHONPATH=bench $(UV) run --no-sync python -m rinnovo_bench.fullquery --before "$(BEFORE)" $(BENCH_ARGS)

clean-data:
	rm -rf "$${RINNOVO_CACHE_DIR:-$$HOME/.cache/rinnovo}/data"
