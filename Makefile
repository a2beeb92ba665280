# Every target sets itself up on a fresh machine: the virtual environment is
# created and the project installed the first time, and again when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test calibrate fit city bench clean

$(STAMP): pyproject.toml tests/e2e/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	# A real browser for the UI's end-to-end test (Debian's chromium; playwright's own download does not work offline).
	test -x /usr/bin/chromium || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }
	# axe-core for the UI's accessibility check (tests/e2e/package-lock.json pins it; npm from Debian if missing).
	command -v npm >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q npm; }
	npm ci --prefix tests/e2e --no-audit --no-fund --silent
	touch $(STAMP)

# The main job: the standard scenarios against the status quo, report in results/report/.
run: $(STAMP)
	$(PY) -m sim.report

test: $(STAMP)
	$(PY) -m pytest

calibrate: $(STAMP)
	$(PY) -m sim.calibrate

fit: $(STAMP)
	$(PY) experiments/fit_parameters.py --dense

city: $(STAMP)
	$(PY) experiments/make_synthetic_city.py

clean:
	rm -rf $(VENV) results/*.csv results/*.parquet

# Speed and memory (medians over fresh processes, one thread each), the speed-up over the per-agent
# reference (tests/reference/), sweep throughput, the UI's default comparison and a machine reference:
# seven to thirteen minutes, depending on the day's speed of the machine.
# Writes results/benchmarks.json and results/benchmarks.png; `$(PY) experiments/benchmark.py --table`
# prints the README table from the json.
bench: $(STAMP)
	$(PY) experiments/benchmark.py

# The planners' web UI on this machine only (UI_HOST=0.0.0.0 to share it on a network, at your own risk).
UI_HOST ?= 127.0.0.1
UI_PORT ?= 8765
.PHONY: ui
ui: $(STAMP)
	$(PY) -m sim.ui --host $(UI_HOST) --port $(UI_PORT)

# A small demonstration sweep for analysts: 4 scenarios × 3 seeds on a 5 % sample (both cores),
# then one table with mean and interval over seeds: results/multirun/demo_sweep/collected/.
.PHONY: sweep
sweep: $(STAMP)
	$(PY) -m sim.run experiment=demo_sweep
	$(PY) -m sim.collect results/multirun/demo_sweep
