"""Merge a Hydra sweep into one table, with the mean and a 95 % interval over seeds, and charts.

    python -m sim.collect results/multirun/demo_sweep [--out DIR]

Reads every finished run below the sweep folder (`<run>/result/`, see sim.run) and writes to
`<sweep>/collected/` (the folder appears only when complete):

- `runs.parquet`: every run's indicator table, one row per run, indicator and subgroup, with the
  run's swept settings as columns (`run` names the run's folder);
- `costs.parquet`: every run's cost table (EUR per service, year and Sozialraumtyp);
- `runs.csv`: one row per run: its settings, annual cost and run time;
- `summary.csv`: per variant (the runs' settings other than the seed), indicator and subgroup
  (Sozialräume left out: too small): mean, sd, n_seeds, ci_low, ci_high (t-interval over seeds);
- `charts/`: the poor/non-poor gap per indicator and variant, and the annual cost per variant,
  with intervals over seeds (PNG and SVG).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.analysis.results import atomic_directory, catch_interrupts, write_csv, write_parquet, write_provenance
from sim.inputs.errors import InputError
from sim.inputs.yamlio import read_yaml
from sim.sweeps.sweep_charts import sweep_charts
from sim.sweeps.sweep_tables import GAP_INDICATORS, seed_statistics, variant_columns

SUMMARY_SUBGROUPS = ("all", "poverty", "sozialraum_typ", "stadtbezirk", "language")
RUN_KEYS = ("scenario", "seed", "scale", "years", "burn_in_years")
# Overrides already in RUN_KEYS, or that choose where a run ran rather than what it computed.
NOT_A_SETTING = RUN_KEYS + ("scale.share", "experiment", "launcher", "out")


def find_runs(sweep_dir: Path) -> list[Path]:
    """Finished runs: result folders with their configuration (an unfinished run has none)."""
    return sorted(p.parent for p in Path(sweep_dir).rglob("result/config.yaml") if "collected" not in p.parts)


def _settings(record: dict) -> dict:
    """The run's settings as flat columns: the fixed keys, then every override given for the run."""
    row = {k: record.get(k) for k in RUN_KEYS}
    for override in record.get("overrides", []):
        key, _, value = override.lstrip("+~").partition("=")
        if key not in NOT_A_SETTING:
            row[key] = value
    return row


def load_sweep(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    runs = find_runs(sweep_dir)
    if not runs:
        raise InputError(str(sweep_dir), "(folder)", "no finished run found (no */result/config.yaml)")
    indicator_tables, cost_tables, rows = [], [], []
    for result in runs:
        record = read_yaml(result / "config.yaml")
        if not isinstance(record, dict):
            raise InputError(str(result / "config.yaml"), "(file)", "a run's configuration must be a mapping")
        name = str(result.parent.relative_to(sweep_dir))
        settings = {"run": name, **_settings(record)}
        ind = pd.read_parquet(result / "indicators.parquet")
        cost = pd.read_parquet(result / "costs.parquet")
        for table, target in ((ind, indicator_tables), (cost, cost_tables)):
            extra = {k: v for k, v in settings.items() if k not in table.columns}
            target.append(table.assign(**extra))
        annual = float(cost.groupby("year")["cost_eur"].sum().mean())
        rows.append({**settings, "annual_cost_eur": annual, "run_seconds": record.get("run_seconds")})
    front = ["run", *[c for c in rows[0] if c not in ("run", "annual_cost_eur", "run_seconds")]]
    indicators = pd.concat(indicator_tables, ignore_index=True)
    costs = pd.concat(cost_tables, ignore_index=True)
    indicators = indicators[front + [c for c in indicators.columns if c not in front]]
    costs = costs[front + [c for c in costs.columns if c not in front]]
    return indicators, costs, pd.DataFrame(rows)


def summarise(indicators: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    keys = variant_columns(runs)
    table = indicators[indicators["subgroup_type"].isin(SUMMARY_SUBGROUPS)]
    table = table.astype({k: str for k in keys})
    return seed_statistics(table, keys + ["indicator", "subgroup_type", "subgroup"])


def sweep_provenance(sweep_dir: Path, out_dir: Path) -> dict:
    """The configuration behind an output made of a sweep (the collection, an experiment's
    analysis): every finished run's own resolved configuration, with its seed."""
    configs = {}
    for result in find_runs(sweep_dir):
        record = read_yaml(result / "config.yaml")
        configs[str(result.parent.relative_to(sweep_dir))] = record if isinstance(record, dict) else {}
    seeds = sorted({int(c["seed"]) for c in configs.values() if isinstance(c.get("seed"), int)})
    return {"sweep_dir": str(sweep_dir), "out": str(out_dir), "seeds": seeds, "n_runs": len(configs), "runs": configs}


def collect(sweep_dir: Path, out_dir: Path | None = None, charts: bool = True) -> Path:
    """Merge a sweep; the output folder is renamed into place when complete."""
    sweep_dir = Path(sweep_dir)
    out_dir = Path(out_dir) if out_dir else sweep_dir / "collected"
    indicators, costs, runs = load_sweep(sweep_dir)
    summary = summarise(indicators, runs)
    with atomic_directory(out_dir) as tmp:
        write_parquet(indicators, tmp / "runs.parquet")
        write_parquet(costs, tmp / "costs.parquet")
        write_csv(runs, tmp / "runs.csv")
        write_csv(summary, tmp / "summary.csv")
        if charts:
            sweep_charts(summary, runs, tmp / "charts")
        write_provenance(sweep_provenance(sweep_dir, out_dir), tmp / "provenance.yaml", fill_params=False)
    return out_dir


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description="Einen Hydra-Sweep zu einer Tabelle zusammenführen")
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default <sweep>/collected)")
    parser.add_argument("--no-charts", action="store_true")
    args = parser.parse_args(argv)
    out = collect(args.sweep_dir, args.out, charts=not args.no_charts)
    runs = pd.read_csv(out / "runs.csv")
    print(f"{len(runs)} Läufe zusammengeführt -> {out}")
    summary = pd.read_csv(out / "summary.csv")
    gap = summary[(summary["subgroup"] == "gap") & (summary["indicator"].isin(GAP_INDICATORS[2:3] + GAP_INDICATORS[-1:]))]
    if not gap.empty:
        cols = [c for c in variant_columns(runs) if c in gap.columns and gap[c].nunique() > 1] or ["scenario"]
        print("Abstand SGB II − nicht SGB II (Prozentpunkte), Mittel und 95-%-Intervall über Seeds:")
        for _, row in gap.iterrows():
            label = " · ".join(str(row[c]) for c in cols)
            print(f"  {label:40s} {row['indicator']:40s} {100 * row['mean']:+6.1f}  "
                  f"[{100 * row['ci_low']:+6.1f}, {100 * row['ci_high']:+6.1f}]  n={row['n_seeds']}")
    return out


if __name__ == "__main__":
    catch_interrupts()
    main()
