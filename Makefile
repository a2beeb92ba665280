# Every target sets itself up on a fresh machine: the virtual environment is
# created and the project installed the first time, and again when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test calibrate fit city bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The main job: the standard scenarios against the status quo, report in results/report/.
run: $(STAMP)
	$(PY) -m sim.report

test: $(STAMP)
	$(PY) -m pytest

calibrate: $(STAMP)
	$(PY) -m sim.calibrate

fit: $(STAMP)
	$(PY) experiments/fit_parameters.py

city: $(STAMP)
	$(PY) experiments/make_synthetic_city.py

clean:
	rm -rf $(VENV) results/*.csv results/*.parquet

bench: $(STAMP)
	$(PY) experiments/benchmark.py
