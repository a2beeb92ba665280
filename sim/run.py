"""The main job: run one scenario on the synthetic Düsseldorf and write its results (a Hydra app).

    python -m sim.run                                   # baseline, seed 0, full city
    python -m sim.run scenario=lotsen seed=3 scale=sample
    python -m sim.run -m scenario=baseline,lotsen 'seed=range(10)'   # a sweep (joblib, both cores)
    python -m sim.run params.takeup.elasticity.stigma_trust=3.0     # any model parameter by name
    python -m sim.run --scenario lotsen --seed 3 --scale 0.25        # the earlier flags still work

Configuration: conf/ (groups city, scenario, scale, parameters, launcher, experiment; schema and
checks in sim/sweeps/hydra_conf.py). A single run writes to results/runs/<scenario>_seed<seed>/result/,
a sweep to results/multirun/<time or experiment>/<overrides>/result/: indicators.csv (tidy, one
row per indicator and subgroup, reported years pooled), indicators_by_year.csv, costs.csv (EUR per
cost line, year, Sozialraumtyp and payer), indicators.parquet and costs.parquet (the same, tidy Parquet),
school_entry.parquet (one row per examined child), monthly.csv (the DataCollector series),
config.yaml (the resolved configuration and seed) and provenance.yaml. The folder appears only
when complete; a sweep started again skips every run whose folder is complete with the same
configuration. `python -m sim.collect <sweep dir>` merges a sweep into one table.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.analysis.de_format import de
from sim.analysis.indicators import INDICATOR_LABELS_DE
from sim.analysis.results import (atomic_directory, catch_interrupts, write_csv, write_parquet, write_provenance,
                                  write_yaml)
from sim.engine.model import PreventionChainModel
from sim.inputs.city import load_city
from sim.inputs.errors import InputError
from sim.inputs.yamlio import read_yaml
from sim.paths import CONF, RESULTS
from sim.sweeps.hydra_conf import check_run, objective_value

log = logging.getLogger(__name__)

CONF_DIR = CONF
SUMMARY_INDICATORS = (
    "child_sgb2_rate", "u3_care_coverage", "kita_entry_before_36_months", "ue3_kita_attendance",
    "insufficient_german_at_school_entry", "sports_club_member_at_school_entry", "ogs_participation",
    "but_social_participation_takeup", "gymnasium_transition", "neet_at_18", "multiple_deprivation",
)


def write_results(model: PreventionChainModel, out_dir: Path, config: dict) -> Path:
    """Write every table of a finished run; the directory is renamed into place when complete."""
    with atomic_directory(Path(out_dir)) as tmp:
        write_csv(model.indicators(), tmp / "indicators.csv")
        write_csv(model.indicators(by_year=True), tmp / "indicators_by_year.csv")
        write_csv(model.cost_table(), tmp / "costs.csv")
        write_parquet(model.school_entry_records(), tmp / "school_entry.parquet")
        write_csv(model.datacollector.get_model_vars_dataframe(), tmp / "monthly.csv")
        write_parquet(model.indicators(), tmp / "indicators.parquet")
        write_parquet(model.cost_table(), tmp / "costs.parquet")
        write_yaml(config, tmp / "config.yaml")
        write_provenance(config, tmp / "provenance.yaml")
    return Path(out_dir)


def summary(model: PreventionChainModel) -> str:
    table = model.indicators().set_index(["indicator", "subgroup_type", "subgroup"])["value"]
    lines = [f"{'Indikator':58s} {'alle':>7s} {'SGB II':>7s} {'nicht':>7s} {'Abstand':>8s}"]
    for name in SUMMARY_INDICATORS:
        if (name, "all", "all") not in table:
            continue
        values = [table[(name, "all", "all")], table[(name, "poverty", "sgb2")], table[(name, "poverty", "non_sgb2")],
                  table[(name, "poverty", "gap")]]
        lines.append(f"{INDICATOR_LABELS_DE[name][:58]:58s} " + " ".join(f"{v:7.1%}" for v in values[:3])
                     + f" {values[3] * 100:+7.1f}P")
    costs = model.cost_table().groupby("year")[["cost_eur", "public_cost_eur"]].sum()
    lines.append(f"\nKosten (Mio. EUR je Jahr, Mittel {costs.index.min()}-{costs.index.max()}): Haushalt der Stadt "
                 f"{de(costs['cost_eur'].mean() / 1e6, 1)}, alle öffentlichen Haushalte {de(costs['public_cost_eur'].mean() / 1e6, 1)}")
    return "\n".join(lines)


# Flags of the earlier command line, still accepted: each becomes a Hydra override.
LEGACY_FLAGS = {"--scenario": "scenario", "--seed": "seed", "--scale": "scale.share", "--years": "years",
                "--burn-in": "burn_in_years", "--out": "out"}


def hydra_arguments(argv: list[str]) -> list[str]:
    """`--scenario lotsen --seed 3` -> `scenario=lotsen seed=3`; everything else passes unchanged."""
    out, i = [], 0
    while i < len(argv):
        flag, _, inline = argv[i].partition("=")
        if flag in LEGACY_FLAGS:
            value = inline if inline else (argv[i + 1] if i + 1 < len(argv) else "")
            i += 1 if inline else 2
            out.append(f"{LEGACY_FLAGS[flag]}={value}")
        else:
            out.append(argv[i])
            i += 1
    return out


def run_configured(cfg: DictConfig):
    """One run from a composed Hydra configuration (the task of `python -m sim.run`)."""
    run = check_run(cfg)
    hydra_cfg = HydraConfig.get()
    single = hydra_cfg.mode == RunMode.RUN
    out = Path(cfg.out) if cfg.out else Path(hydra_cfg.runtime.output_dir) / "result"
    record = {**run.record, "overrides": list(hydra_cfg.overrides.task)}
    if finished(out, record):
        log.info("bereits fertig, übersprungen: %s", out)
        return objective_value(pd.read_parquet(out / "indicators.parquet"), pd.read_parquet(out / "costs.parquet"),
                               run.objective)
    started = time.perf_counter()
    city = load_city(run.city_table) if run.city_table else None
    model = PreventionChainModel(run.scenario, levers=run.levers, params=run.params, city=city, seed=run.seed,
                                 scale=run.scale, years=run.years, burn_in_years=run.burn_in_years)
    header = (f"Szenario: {model.scenario.title} · synthetisches Düsseldorf · Seed {run.seed} · Skala {run.scale} · "
              f"{run.years} Jahre ab {model.start_year} (+{run.burn_in_years} Jahre Einschwingzeit)")
    if single:
        print(header)
    model.run(progress=single)
    record["run_seconds"] = round(time.perf_counter() - started, 3)
    write_results(model, out, record)
    if single:
        print(summary(model))
        print(f"\nErgebnisse: {out}  ({de(record['run_seconds'], 1)} s)")
    else:
        log.info("%s · Seed %d · fertig in %.1f s -> %s", run.scenario.name, run.seed, record["run_seconds"], out)
    return objective_value(model.indicators(), model.cost_table(), run.objective)


def finished(out: Path, record: dict) -> bool:
    """A run is done when its result folder is complete (it appears only then) with the same configuration."""
    path = out / "config.yaml"
    if not path.is_file():
        return False
    try:
        done = read_yaml(path)
    except InputError:
        return False  # edited or damaged by hand: run again, the new folder replaces it
    if not isinstance(done, dict):
        return False
    keys = set(record) - {"overrides", "run_seconds", "budget", "objective"}  # these do not change the run
    return all(done.get(k) == record[k] for k in keys)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def hydra_main(cfg: DictConfig):
    return run_configured(cfg)


def main(argv: list[str] | None = None):
    """`python -m sim.run [overrides]`: Hydra's command line (see conf/config.yaml)."""
    argv = sys.argv[1:] if argv is None else argv
    sys.argv = [sys.argv[0], *hydra_arguments(argv)]
    return hydra_main()


if __name__ == "__main__":
    # Run the task from the importable module `sim.run`, not `__main__`, so that launchers
    # (joblib, Ray, submitit) pickle it by reference.
    from sim.run import main as _main

    catch_interrupts()
    _main()
