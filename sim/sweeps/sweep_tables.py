"""What the tables of a collected sweep are made of: the indicators it compares by poverty, the
settings that tell variants apart, and the statistics over seeds. Read by sim.collect, which
writes the tables, and sim.sweeps.sweep_charts, which draws them."""

from __future__ import annotations

import pandas as pd

from sim.analysis.intervals import t_half_width

GAP_INDICATORS = (
    "u3_care_coverage", "kita_entry_before_36_months", "insufficient_german_at_school_entry",
    "sports_club_member_at_school_entry", "ogs_participation", "but_social_participation_takeup",
    "gymnasium_transition", "neet_at_18", "multiple_deprivation",
)


def variant_columns(runs: pd.DataFrame) -> list[str]:
    """The settings that tell variants apart (everything but the seed and the folder name)."""
    return [c for c in runs.columns if c not in ("run", "seed", "annual_cost_eur", "run_seconds")]


def seed_statistics(table: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    grouped = table.groupby(by, dropna=False, sort=False)[value]
    out = grouped.agg(mean="mean", sd="std", n_seeds="count").reset_index()
    half = t_half_width(out["sd"], out["n_seeds"])
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out

