"""Hydra sweeps for analysts: configuration checks, a small multirun, its collection, resuming, Ray.

Runs are tiny (2 % of the city, 2 reported years after 1 burn-in year). The Ray launcher test
starts a local Ray instance and is opt-in: RUN_RAY_TEST=1 (needs `pip install -e ".[cluster]"`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.engine.model import PreventionChainModel
from sim.inputs.errors import InputError
from sim.run import CONF_DIR, hydra_arguments
from sim.sweeps.hydra_conf import check_run

REPO = Path(__file__).resolve().parent.parent
TINY = ["scale=tiny", "years=2", "burn_in_years=1"]
SWEEP = ["scenario=baseline,lotsen", "seed=0,1"]


def composed(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def sim_run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "sim.run", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def sweep(sweep_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    done = sim_run("-m", *SWEEP, *TINY, f"hydra.sweep.dir={sweep_dir}", *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> Path:
    sweep_dir = tmp_path_factory.mktemp("sweep") / "joblib"
    sweep(sweep_dir)
    return sweep_dir


# ---- configuration -------------------------------------------------------------------------------
def test_default_configuration_is_the_baseline_on_the_full_city():
    run = check_run(composed())
    assert (run.scenario.name, run.seed, run.scale, run.years, run.burn_in_years) == ("baseline", 0, 1.0, 18, 6)


def test_every_scenario_file_is_a_choice_of_the_scenario_group():
    for path in (REPO / "scenarios").glob("*.yaml"):
        assert check_run(composed(f"scenario={path.stem}")).scenario.name == path.stem


def test_a_model_parameter_is_overridden_by_name():
    run = check_run(composed("params.takeup.elasticity.stigma_trust=0.8", "params.demography.sgb2_exit_per_year=0.2"))
    assert run.params.takeup.elasticity["stigma_trust"] == 0.8
    assert run.params.demography.sgb2_exit_per_year == 0.2


def test_lever_overrides_go_on_top_of_the_scenario():
    run = check_run(composed("scenario=lotsen", "+levers.outreach_by_type.5=1.0"))
    assert run.levers.lotse_fte == 20 and run.levers.outreach_by_type[5] == 1.0


@pytest.mark.parametrize("override, field", [
    ("params.takeup.handover_strength=1.5", "params.takeup.handover_strength"),
    ("+params.takeup.elasticity.stigma_trus=0.8", "params.takeup.elasticity"),
    ("scale.share=0", "scale.share"),
    ("years=0", "years"),
    ("+levers.lotse_fte=-3", "levers.lotse_fte"),
])
def test_a_value_out_of_range_or_an_unknown_name_names_the_key(override, field):
    with pytest.raises(InputError) as err:
        check_run(composed(override))
    assert err.value.field == field


def test_a_bad_override_fails_clearly_before_anything_runs(tmp_path):
    sweep_dir = tmp_path / "bad"
    done = sim_run("-m", "scenario=baseline,lotsen", "params.takeup.handover_strength=0.5,1.5", *TINY,
                   f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode != 0
    assert "nichts wurde gerechnet" in done.stderr and "params.takeup.handover_strength" in done.stderr
    assert "less than or equal to 1" in done.stderr
    assert not sweep_dir.exists()
    typo = sim_run("params.takeup.elasticity.stigma_trus=0.8", *TINY, f"hydra.run.dir={tmp_path / 'run'}")
    assert typo.returncode != 0 and "stigma_trus" in typo.stderr and "not in struct" in typo.stderr
    unknown = sim_run("scenario=lotsn", *TINY, f"hydra.run.dir={tmp_path / 'run'}")
    assert unknown.returncode != 0 and "Available options in 'scenario'" in unknown.stderr
    assert not (tmp_path / "run" / "result").exists()


def test_the_earlier_flags_become_overrides():
    assert hydra_arguments(["--scenario", "lotsen", "--seed=3", "--scale", "0.25", "-m", "years=2"]) == [
        "scenario=lotsen", "seed=3", "scale.share=0.25", "-m", "years=2"]


# ---- multirun, collection, resuming ------------------------------------------------------------------
def test_collected_table_matches_the_single_runs(joblib_sweep):
    from sim.collect import collect

    out = collect(joblib_sweep)
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs.groupby(["scenario", "seed"]).groups) == [("baseline", 0), ("baseline", 1), ("lotsen", 0), ("lotsen", 1)]
    single = pd.concat([PreventionChainModel(s, seed=k, scale=0.02, years=2, burn_in_years=1).run().indicators()
                        for s in ("baseline", "lotsen") for k in (0, 1)], ignore_index=True)
    keys = ["scenario", "seed", "indicator", "subgroup_type", "subgroup"]
    merged = single.merge(runs, on=keys, suffixes=("_single", "_sweep"), validate="one_to_one")
    assert len(merged) == len(single) == len(runs)
    pd.testing.assert_series_equal(merged["value_single"], merged["value_sweep"], check_names=False)
    summary = pd.read_csv(out / "summary.csv")
    row = summary[(summary["scenario"] == "lotsen") & (summary["indicator"] == "multiple_deprivation")
                  & (summary["subgroup"] == "gap")]
    expected = single[(single["scenario"] == "lotsen") & (single["indicator"] == "multiple_deprivation")
                      & (single["subgroup"] == "gap")]["value"]
    assert row["n_seeds"].item() == 2 and row["mean"].item() == pytest.approx(expected.mean())
    assert row["ci_low"].item() <= row["mean"].item() <= row["ci_high"].item()
    assert {p.name for p in (out / "charts").iterdir()} >= {"abstand_je_variante.png", "abstand_je_variante.svg"}


def test_each_run_keeps_its_configuration_and_seed(joblib_sweep):
    from sim.inputs.yamlio import safe_load

    results = sorted(joblib_sweep.glob("*/result"))
    assert len(results) == 4
    for result in results:
        record = safe_load((result / "config.yaml").read_text(encoding="utf-8"))
        table = pd.read_parquet(result / "indicators.parquet")
        assert table["seed"].unique().tolist() == [record["seed"]]
        assert table["scenario"].unique().tolist() == [record["scenario"]]
        assert record["params"]["takeup"]["elasticity"] and record["scale"] == 0.02


def test_an_interrupted_sweep_resumes_and_skips_finished_runs(tmp_path, joblib_sweep):
    import shutil

    sweep_dir = tmp_path / "resumed"
    shutil.copytree(joblib_sweep, sweep_dir, ignore=shutil.ignore_patterns("collected"))
    # The interruption: one run never finished, another was cut while writing (only a temporary folder).
    lost = next(sweep_dir.glob("*scenario=lotsen,seed=1*"))
    shutil.rmtree(lost / "result")
    cut = next(sweep_dir.glob("*scenario=baseline,seed=1*"))
    (cut / "result").rename(cut / ".result.interrupted")
    kept = {p: p.stat().st_mtime_ns for p in sweep_dir.glob("*/result/indicators.parquet")}
    done = sweep(sweep_dir)
    assert (lost / "result" / "config.yaml").exists() and (cut / "result" / "config.yaml").exists()
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    assert done.stderr.count("übersprungen") + done.stdout.count("übersprungen") == 2


@pytest.mark.skipif(os.environ.get("RUN_RAY_TEST") != "1", reason="opt-in: RUN_RAY_TEST=1 (starts a local Ray instance)")
def test_ray_launcher_gives_the_same_table_as_joblib(tmp_path, joblib_sweep):
    from sim.collect import collect

    try:  # asked for explicitly: a missing launcher is a failure, not a skip
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
    except ImportError:
        pytest.fail('RUN_RAY_TEST=1 needs the cluster extra: pip install -e ".[cluster]"')
    ray_dir = tmp_path / "ray"
    sweep(ray_dir, "launcher=ray", "+hydra.launcher.ray.init.num_cpus=2")
    by_ray = pd.read_parquet(collect(ray_dir, charts=False) / "runs.parquet")
    by_joblib = pd.read_parquet(collect(joblib_sweep, tmp_path / "joblib_collected", charts=False) / "runs.parquet")
    order = ["run", "indicator", "subgroup_type", "subgroup"]
    pd.testing.assert_frame_equal(by_ray.sort_values(order).reset_index(drop=True),
                                  by_joblib.sort_values(order).reset_index(drop=True))
