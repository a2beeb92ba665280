"""The repository's folders, defined once: every module and script that reads inputs or writes
results takes its paths from here (the commands and output folders stay where users know them)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "conf"
SCENARIOS = REPO / "scenarios"
RESULTS = REPO / "results"
FITTED_PARAMS = CONF / "params" / "fitted.yaml"
DATA = Path(__file__).resolve().parent / "data"  # the package's data: city, catalogue, targets, unit costs
