"""The main job: run one scenario on the synthetic Düsseldorf and write its results.

    python -m sim.run [--scenario baseline] [--seed 0] [--scale 1.0] [--years 18]

Writes to results/<scenario>_seed<seed>/: indicators.csv (tidy, one row per indicator and
subgroup, reported years pooled), indicators_by_year.csv, costs.csv (EUR per service, year and
Sozialraumtyp), school_entry.parquet (one row per examined child), monthly.csv (the
DataCollector series) and provenance.yaml. The directory appears only when complete.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.indicators import INDICATOR_LABELS_DE
from sim.model import PreventionChainModel
from sim.provenance import provenance_yaml
from sim.results import write_csv, write_parquet

RESULTS = Path(__file__).resolve().parent.parent / "results"
SUMMARY_INDICATORS = (
    "child_sgb2_rate", "u3_care_coverage", "kita_entry_before_36_months", "ue3_kita_attendance",
    "insufficient_german_at_school_entry", "sports_club_member_at_school_entry", "ogs_participation",
    "but_social_participation_takeup", "gymnasium_transition", "neet_at_18", "multiple_deprivation",
)


def write_results(model: PreventionChainModel, out_dir: Path, config: dict) -> Path:
    """Write every table of a finished run; the directory is renamed into place when complete."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        write_csv(model.indicators(), tmp / "indicators.csv")
        write_csv(model.indicators(by_year=True), tmp / "indicators_by_year.csv")
        write_csv(model.cost_table(), tmp / "costs.csv")
        write_parquet(model.school_entry_records(), tmp / "school_entry.parquet")
        write_csv(model.datacollector.get_model_vars_dataframe(), tmp / "monthly.csv")
        (tmp / "provenance.yaml").write_text(provenance_yaml(config), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


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
    costs = model.cost_table().groupby("year")["cost_eur"].sum()
    lines.append(f"\nKosten der Angebote (Mio. EUR je Jahr, Stadt): Mittel {costs.mean() / 1e6:,.1f} "
                 f"({costs.index.min()}-{costs.index.max()})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description="Präventionskette-Sim: ein Szenario rechnen")
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the city simulated (1.0 = full city)")
    parser.add_argument("--years", type=int, default=18)
    parser.add_argument("--burn-in", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = PreventionChainModel(args.scenario, seed=args.seed, scale=args.scale, years=args.years,
                                 burn_in_years=args.burn_in)
    print(f"Szenario: {model.scenario.title} · synthetisches Düsseldorf · Seed {args.seed} · Skala {args.scale} · "
          f"{args.years} Jahre ab {model.start_year} (+{args.burn_in} Jahre Einschwingzeit)")
    model.run(progress=True)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    config |= {"levers": model.levers.model_dump(), "params": model.params.model_dump()}
    out = write_results(model, args.out or RESULTS / f"{model.scenario.name}_seed{args.seed}", config)
    print(summary(model))
    print(f"\nErgebnisse: {out}  ({time.perf_counter() - started:.1f} s)")
    return out


if __name__ == "__main__":
    main()
