"""Every result folder says how it was made: resolved config, seed, git revision, package versions, time.

One tiny output of each writer: a single run (sim.run), a collected sweep (sim.collect), a report
(sim.report) and a calibration table (sim.calibrate, whose provenance sits beside the CSV).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.engine.model import PreventionChainModel
from sim.inputs.yamlio import read_yaml

TINY = {"scale": 0.01, "years": 2, "burn_in_years": 0}  # lotsen starts in 2027


def assert_provenance(path: Path, seeds: list[int]) -> dict:
    prov = read_yaml(path)
    assert {"created", "git_revision", "python", "packages", "seeds", "inputs", "config"} <= set(prov), sorted(prov)
    created = dt.datetime.fromisoformat(prov["created"])
    assert created.tzinfo is not None and abs(dt.datetime.now(dt.timezone.utc) - created) < dt.timedelta(hours=1)
    assert len(prov["git_revision"].split("+")[0]) == 40 or prov["git_revision"] == "unknown"
    assert prov["packages"]["mesa"].startswith("3.") and prov["packages"]["numpy"] != "not installed"
    assert prov["seeds"] == seeds
    assert all(len(f["sha256"]) == 64 for f in prov["inputs"].values())
    return prov["config"]


def run_folder(out: Path, scenario: str, seed: int) -> Path:
    from sim.sweeps.hydra_conf import check_run
    from sim.run import write_results

    config = {"seed": seed, "scale": {"share": TINY["scale"]}, "years": TINY["years"],
              "burn_in_years": TINY["burn_in_years"], "scenario": {"name": scenario}}
    run = check_run(config)
    model = PreventionChainModel(run.scenario, levers=run.levers, params=run.params, seed=seed, **TINY).run()
    return write_results(model, out, {**run.record, "overrides": [f"scenario={scenario}", f"seed={seed}"]})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    for scenario, seed in (("baseline", 0), ("lotsen", 1)):
        run_folder(folder / f"scenario={scenario},seed={seed}" / "result", scenario, seed)
    return folder


def test_a_single_run_carries_its_resolved_config_and_seed(sweep):
    config = assert_provenance(sweep / "scenario=lotsen,seed=1" / "result" / "provenance.yaml", [1])
    assert config["scenario"] == "lotsen" and config["seed"] == 1
    assert config["levers"]["lotse_fte"] == 20, "the scenario's levers, resolved"
    assert config["params"]["takeup"]["elasticity"], "every model parameter, resolved"
    assert read_yaml(sweep / "scenario=lotsen,seed=1" / "result" / "config.yaml")["seed"] == 1


def test_a_collected_sweep_carries_every_runs_config(sweep):
    from sim.collect import collect

    out = collect(sweep, charts=False)
    config = assert_provenance(out / "provenance.yaml", [0, 1])
    assert set(config["runs"]) == {"scenario=baseline,seed=0", "scenario=lotsen,seed=1"}
    assert config["runs"]["scenario=lotsen,seed=1"]["levers"]["lotse_fte"] == 20
    assert "params" not in config, "the runs carry their own parameters; defaults here would mislead"


def test_a_report_carries_its_scenarios_levers_and_parameters(tmp_path):
    from sim.analysis.compare import compare
    from sim.report import write_report

    comparison = compare(["baseline", "lotsen"], [0], scale=TINY["scale"], years=TINY["years"], burn_in=0, workers=1)
    config = {"scenarios": "baseline,lotsen", "seeds": 1, "scale": TINY["scale"], "years": 1, "burn_in": 0,
              "levers": {s.name: s.levers.model_dump(mode="json") for s in comparison.scenarios}}
    out = write_report(comparison, tmp_path / "bericht", config)
    config = assert_provenance(out / "provenance.yaml", [0])
    assert config["levers"]["lotsen"]["lotse_fte"] == 20 and config["params"]["takeup"]


def test_the_calibration_table_has_its_provenance_beside_it(tmp_path):
    from sim.calibrate import main, provenance_path

    out = tmp_path / "calibration.csv"
    main(["--seeds", "1", "--scale", str(TINY["scale"]), "--years", "1", "--burn-in", "0", "--out", str(out)])
    assert out.is_file() and provenance_path(out) == tmp_path / "calibration.provenance.yaml"
    config = assert_provenance(provenance_path(out), [0])
    assert config["scenario"] == "baseline" and config["levers"]["lotse_fte"] == 2.0 and config["params"]


def test_no_writer_leaves_a_temporary_behind(sweep):
    assert not [p for p in sweep.rglob(".*") if p.name != ".hydra"], "a hidden temporary was left in the sweep"
