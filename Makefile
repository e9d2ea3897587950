# Developer and CI entry points. Needs only python3 (and, for `test`/`check`, promtool and
# node, which `make promtool` / `make node` install on Debian/Ubuntu or explain how to get).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstalls whenever pyproject.toml changes (dependencies, entry points).
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv promtool engines node grafana-schema stubs-typescript go generate test fuzz e2e \
        check bench \
        clean distclean

help:
	@echo "make venv      create $(VENV) and install mcgen with its dev tools"
	@echo "make promtool  make sure promtool is available (installs Debian's prometheus package)"
	@echo "make engines   unpack Prometheus 2.53 (trixie), 3.5, Alertmanager 0.33, vmalert (sid) into $(ENGINES)"
	@echo "make node      make sure node is available (installs Debian's nodejs package)"
	@echo "make generate  regenerate the outputs from specs/ into generated/"
	@echo "make test      ruff, mypy, lint-imports and pytest (installs promtool, node, go and npm packages)"
	@echo "make fuzz      the property tests exploring new examples (FUZZ_EXAMPLES=500 each)"
	@echo "make e2e       the end-to-end test alone (real Prometheus, generated stub and rules)"
	@echo "make check     what CI checks: specs valid, outputs up to date, promtool rules and tests"
	@echo "make bench     time mcgen on 100 synthetic services (reports, never fails)"
	@echo "make clean     remove caches and build output (distclean also removes $(VENV))"

$(STAMP): pyproject.toml
	@echo "make: creating $(VENV) and installing mcgen with its pinned dependencies (a minute or two, quietly)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

# PROMTOOL=/path/to/promtool wins over PATH; otherwise install it if it is missing.
promtool:
	@if [ -n "$${PROMTOOL:-}" ]; then \
	    [ -x "$$PROMTOOL" ] || { echo "make: PROMTOOL=$$PROMTOOL is not an executable file; fix the path or unset PROMTOOL" >&2; exit 1; }; \
	elif ! command -v promtool >/dev/null 2>&1; then \
	    bash scripts/install-tool.sh promtool prometheus \
	        "install it with 'sudo apt-get install prometheus', or set PROMTOOL=/path/to/promtool"; \
	fi

# Every proof runs on the Prometheus users run (SPEC 11): bookworm's 2.42 from `make
# promtool` above, and 2.53 (trixie) and 3.5 LTS (sid) from Debian's packages; with them
# Alertmanager 0.33's amtool and VictoriaMetrics' vmalert (sid), all downloaded
# with apt-get against a temporary sources list and unpacked into $(ENGINES) without
# installing anything (scripts/fetch-debian.py; it says how to do it by hand without apt).
ENGINES := .engines
SID     := $(ENGINES)/sid/usr/bin
TRIXIE  := $(ENGINES)/trixie/usr/bin
# amtool (Alertmanager 0.33) proves the specs' routing in `mcgen check`; AMTOOL wins.
AMTOOL  ?= $(CURDIR)/$(ENGINES)/alertmanager-sid/usr/bin/amtool
export AMTOOL
# amtool is also linked into the virtualenv's bin/, where mcgen looks for it after AMTOOL and
# PATH: `.venv/bin/mcgen check` proves the routing without any variable set.
engines: $(STAMP)
	@$(PYTHON) scripts/fetch-debian.py sid $(ENGINES)/sid promtool prometheus
	@$(PYTHON) scripts/fetch-debian.py trixie $(ENGINES)/trixie promtool prometheus
	@$(PYTHON) scripts/fetch-debian.py sid $(ENGINES)/alertmanager-sid prometheus-alertmanager
	@$(PYTHON) scripts/fetch-debian.py sid $(ENGINES)/victoria-sid victoria-metrics
	@ln -sf $(CURDIR)/$(ENGINES)/alertmanager-sid/usr/bin/amtool $(BIN)/amtool

# Node runs the checks of JavaScript-side behaviour (how prom-client spells bucket bounds).
node:
	@command -v node >/dev/null 2>&1 || bash scripts/install-tool.sh node nodejs

# The dashboards' type check against @grafana/schema (tests/dashboards/test_dashboard_schema.py) runs tsc
# from two pinned package sets, tests/grafana_schema (Grafana 11.6) and tests/grafana_schema/v13
# (13.2): each node_modules (re)installed from its package-lock.json whenever it is missing or
# older than the lock file.
SCHEMA_NPM := tests/grafana_schema tests/grafana_schema/v13
grafana-schema: node
	@for dir in $(SCHEMA_NPM); do \
	    if [ ! -f $$dir/node_modules/.package-lock.json ] || \
	        [ $$dir/package-lock.json -nt $$dir/node_modules/.package-lock.json ]; then \
	        command -v npm >/dev/null 2>&1 || bash scripts/install-tool.sh npm npm; \
	        npm ci --prefix $$dir --no-audit --no-fund || exit 1; \
	    fi; \
	done

# The TypeScript stubs' checks: tsc --strict and node with prom-client, pinned by the
# package-lock.json in tests/stubs_typescript (reinstalled when that changes).
STUBS_NPM := tests/stubs_typescript
stubs-typescript: node
	@if [ ! -f $(STUBS_NPM)/node_modules/.package-lock.json ] || \
	    [ $(STUBS_NPM)/package-lock.json -nt $(STUBS_NPM)/node_modules/.package-lock.json ]; then \
	    command -v npm >/dev/null 2>&1 || bash scripts/install-tool.sh npm npm; \
	    npm ci --prefix $(STUBS_NPM) --no-audit --no-fund; \
	fi

# The Go stubs build offline in GOPATH mode against Debian's client_golang.
GO_CLIENT := /usr/share/gocode/src/github.com/prometheus/client_golang/prometheus/promauto
go:
	@command -v go >/dev/null 2>&1 || bash scripts/install-tool.sh go golang-go
	@bash scripts/install-tool.sh $(GO_CLIENT) golang-github-prometheus-client-golang-dev

generate: $(STAMP) promtool engines
	$(BIN)/mcgen generate

# The property tests replay the same examples on every run (hypothesis profile "ci",
# tests/conftest.py), so a landing never depends on the luck of the draw; `make fuzz`
# explores.
test: $(STAMP) promtool engines node grafana-schema stubs-typescript go
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest

# New examples for the property tests (the YAML writer, valid specs through promtool), a
# budget of FUZZ_EXAMPLES each; a failure prints the example and a blob to replay it.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP) promtool engines
	HYPOTHESIS_PROFILE=fuzz MCGEN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest \
	    tests/text/test_yamlout.py tests/test_property.py

# The end-to-end test alone: an app on the generated Python stub, scraped by a real
# Prometheus with the generated rules (also part of `make test`).
e2e: $(STAMP) promtool engines
	$(BIN)/pytest tests/test_e2e.py

# The committed outputs, proven on each engine in turn.
check: $(STAMP) promtool engines
	$(BIN)/mcgen check
	PROMTOOL=$(CURDIR)/$(TRIXIE)/promtool $(BIN)/mcgen check
	PROMTOOL=$(CURDIR)/$(SID)/promtool $(BIN)/mcgen check

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/out
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(ENGINES)
