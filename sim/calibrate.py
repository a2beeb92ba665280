"""Calibration report: the baseline against the published targets.

`python -m sim.calibrate` runs the baseline at full city scale over several seeds and writes
results/calibration.csv (id, indicator, subgroup, target, tolerance, model, within) with its provenance
beside it (results/calibration.provenance.yaml), then prints it.
Targets come from calibration_targets.csv (published figures with sources); rows D01-D10 are
further published figures quoted in domain.md, checked the same way.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model import PreventionChainModel
from sim.levers import Levers
from sim.results import write_csv, write_provenance
from sim.services import DATA_DIR

TARGETS_PATH = DATA_DIR / "calibration_targets.csv"
RESULTS = Path(__file__).resolve().parent.parent / "results"
# Sozialräume with fewer than 0.1% of the city's children (about 100) are left out of min/max: tiny ones are noise.
MIN_SOZIALRAUM_SHARE = 0.001

# Further published figures from domain.md (school entry data, KiD 0-3, KeKiZ), same form as the CSV.
DOMAIN_TARGETS = pd.DataFrame([
    ("D01", "sgb2_4_years_or_more_at_6", "poor 6-year-olds", 0.53, 0.05, "KeKiZ (domain.md): about 53% of poor 6-year-olds in SGB II for 4 years or more"),
    ("D02", "motor_problems_at_school_entry", "children in SGB II households", 0.245, 0.04, "Groos & Jehles 2015 (domain.md)"),
    ("D03", "motor_problems_at_school_entry", "children not in SGB II households", 0.146, 0.04, "Groos & Jehles 2015 (domain.md)"),
    ("D04", "obesity_at_school_entry", "children in SGB II households", 0.088, 0.03, "Groos & Jehles 2015 (domain.md)"),
    ("D05", "obesity_at_school_entry", "children not in SGB II households", 0.037, 0.02, "Groos & Jehles 2015 (domain.md)"),
    ("D06", "u3_care_use_ratio_other_language", "family language not German vs German", 0.49, 0.10,
     "domain.md: U3 use 22% vs 45% by family language (a ratio: the levels are older than T06)"),
    ("D07", "ever_family_midwife", "children in SGB II households", 0.145, 0.04, "KiD 0-3 (domain.md): family midwife 14.5% (poor) vs 9.5%"),
    ("D08", "ever_family_midwife", "children not in SGB II households", 0.095, 0.03, "KiD 0-3 (domain.md)"),
    ("D09", "u3_waiting_list_august", "children aged 0-2", 0.083, 0.04, "domain.md: ~1,500 U3 children unplaced each August (RP/WZ 2015-2018) of ~18,000"),
    ("D10", "ogs_waiting_list_august", "primary school pupils", 0.029, 0.02, "domain.md / RP 05/2017: about 600 waiting of 20,500 pupils"),
], columns=["id", "indicator", "subgroup", "value", "tolerance", "source"])

# How each target id is read off the indicator table: (indicator, subgroup_type, subgroup) or a rule.
TARGET_MAP: dict[str, tuple] = {
    "T01": ("child_sgb2_rate", "all", "all"),
    "T02": ("min_sozialraum", "child_sgb2_rate"),
    "T03": ("max_sozialraum", "child_sgb2_rate"),
    "T04": ("kita_entry_before_36_months", "poverty", "sgb2"),
    "T05": ("kita_entry_before_36_months", "poverty", "non_sgb2"),
    "T06": ("u3_care_coverage", "all", "all"),
    "T07": ("ratio", "u3_care_coverage", ("poverty", "any_low_income"), ("poverty", "not_poor")),
    "T08": ("ue3_kita_attendance", "all", "all"),
    "T09": ("ue3_kita_attendance", "language", "other"),
    "T10": ("insufficient_german_at_school_entry", "poverty", "sgb2"),
    "T11": ("insufficient_german_at_school_entry", "poverty", "non_sgb2"),
    "T12": ("sports_club_member_at_school_entry", "poverty", "sgb2"),
    "T13": ("sports_club_member_at_school_entry", "poverty", "non_sgb2"),
    "T14": ("but_social_participation_takeup", "all", "all"),
    "T15": ("but_any_component_takeup", "all", "all"),
    "T16": ("u_checkup_u9_participation", "all", "all"),
    "T17": ("ogs_participation", "all", "all"),
    "T18": ("welcome_visit_acceptance", "all", "all"),
    "T19": ("gymnasium_transition", "sozialraum_typ", "1"),
    "T20": ("gymnasium_transition", "sozialraum_typ", "5"),
    "T21": ("kinderzuschlag_takeup", "all", "all"),
    "D01": ("sgb2_4_years_or_more_at_6", "poverty", "sgb2"),
    "D02": ("motor_problems_at_school_entry", "poverty", "sgb2"),
    "D03": ("motor_problems_at_school_entry", "poverty", "non_sgb2"),
    "D04": ("obesity_at_school_entry", "poverty", "sgb2"),
    "D05": ("obesity_at_school_entry", "poverty", "non_sgb2"),
    "D06": ("ratio", "u3_care_coverage", ("language", "other"), ("language", "german")),
    "D07": ("ever_family_midwife", "poverty", "sgb2"),
    "D08": ("ever_family_midwife", "poverty", "non_sgb2"),
    "D09": ("u3_waiting_list_august", "all", "all"),
    "D10": ("ogs_waiting_list_august", "all", "all"),
}


def load_targets() -> pd.DataFrame:
    published = pd.read_csv(TARGETS_PATH)
    targets = pd.concat([published[["id", "indicator", "subgroup", "value", "tolerance", "source"]], DOMAIN_TARGETS],
                        ignore_index=True)
    return targets.rename(columns={"value": "target"})


def model_value(indicators: pd.DataFrame, target_id: str) -> float:
    """The model's counterpart of one target, from a (pooled) indicator table."""
    rule = TARGET_MAP[target_id]
    table = indicators.set_index(["indicator", "subgroup_type", "subgroup"])
    if rule[0] in ("min_sozialraum", "max_sozialraum"):
        rows = table.loc[rule[1]].loc["sozialraum"]
        everyone = table.loc[(rule[1], "all", "all"), "denominator"]
        big = rows[rows["denominator"] >= everyone * MIN_SOZIALRAUM_SHARE]
        return float(big["value"].min() if rule[0] == "min_sozialraum" else big["value"].max())
    if rule[0] == "ratio":
        _, name, a, b = rule
        return float(table.loc[(name, *a), "value"] / table.loc[(name, *b), "value"])
    return float(table.loc[rule, "value"])


def _run_one(args: tuple) -> pd.DataFrame:
    seed, scale, years, burn_in, params = args
    model = PreventionChainModel("baseline", seed=seed, scale=scale, years=years, burn_in_years=burn_in, params=params)
    return model.run().indicators()


def run_baseline(seeds: list[int], scale: float = 1.0, years: int = 18, burn_in: int = 6, params=None,
                 workers: int = 2) -> list[pd.DataFrame]:
    jobs = [(seed, scale, years, burn_in, params) for seed in seeds]
    if workers <= 1 or len(jobs) == 1:
        return [_run_one(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_run_one, jobs))


def calibration_table(tables: list[pd.DataFrame]) -> pd.DataFrame:
    targets = load_targets()
    per_seed = np.array([[model_value(t, tid) for tid in targets["id"]] for t in tables])
    out = targets[["id", "indicator", "subgroup", "target", "tolerance"]].copy()
    out["model"] = per_seed.mean(axis=0).round(4)
    out["within"] = (out["model"] - out["target"]).abs() <= out["tolerance"]
    return out


def provenance_path(table: Path) -> Path:
    """The provenance of a calibration table sits next to it: calibration.csv -> calibration.provenance.yaml."""
    return Path(table).with_name(Path(table).stem + ".provenance.yaml")


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description="Kalibrierung: Basisszenario gegen veröffentlichte Zielwerte")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the city simulated (default 1.0 = full city)")
    parser.add_argument("--years", type=int, default=18)
    parser.add_argument("--burn-in", type=int, default=6)
    parser.add_argument("--out", type=Path, default=RESULTS / "calibration.csv")
    args = parser.parse_args(argv)
    print(f"Kalibrierung: Basisszenario, synthetisches Düsseldorf, {args.seeds} Seeds, Skala {args.scale}, "
          f"{args.years} Jahre (+{args.burn_in} Jahre Einschwingzeit) …", flush=True)
    tables = run_baseline(list(range(args.seeds)), args.scale, args.years, args.burn_in)
    table = calibration_table(tables)
    write_csv(table, args.out)
    config = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "scenario": "baseline",
              "levers": Levers().model_dump(mode="json")}
    write_provenance(config, provenance_path(args.out))
    with pd.option_context("display.width", 160, "display.max_rows", 100):
        print(table.to_string(index=False))
    print(f"\n{int(table['within'].sum())} von {len(table)} Zielwerten innerhalb der Toleranz. Geschrieben: {args.out}")
    return table


if __name__ == "__main__":
    main()
