"""Scale series: the same scenario at growing population sizes (conf/experiment/scale_series.yaml).

    python -m sim.run experiment=scale_series        # runs the series, then this script

Writes `<sweep>/scale/scale_series.csv` and the chart `skalierung.png/.svg`: run time per run, and
the poor/non-poor gap in insufficient German at school entry with its interval over seeds, against
the share of the city simulated. A full-city run's time and memory: experiments/benchmark.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis.results import write_csv, write_provenance  # noqa: E402
from sim.collect import collect, sweep_provenance  # noqa: E402
from sim.paths import RESULTS  # noqa: E402
from sim.sweeps.sweep_charts import CITY, plt, save  # noqa: E402
from sim.sweeps.sweep_tables import seed_statistics  # noqa: E402

INDICATOR = "insufficient_german_at_school_entry"


def analyse(sweep_dir: Path) -> Path:
    collected = collect(Path(sweep_dir), charts=False)
    runs = pd.read_csv(collected / "runs.csv")
    ind = pd.read_parquet(collected / "runs.parquet")
    gap = ind[(ind["indicator"] == INDICATOR) & (ind["subgroup_type"] == "poverty") & (ind["subgroup"] == "gap")]
    gap = seed_statistics(gap.assign(value=100 * gap["value"]), ["scale"])
    time = runs.groupby("scale")["run_seconds"].agg(["mean", "max"]).reset_index()
    table = gap.merge(time.rename(columns={"mean": "run_seconds_mean", "max": "run_seconds_max"}), on="scale")
    table = table.sort_values("scale").reset_index(drop=True)
    out = Path(sweep_dir) / "scale"
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "scale_series.csv")
    write_provenance({**sweep_provenance(Path(sweep_dir), out), "analysis": "experiments/scale_series.py"},
                     out / "provenance.yaml", fill_params=False)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    left.plot(table["scale"], table["run_seconds_mean"], "o-", color="#1f5fa8")
    left.set_xlabel("Anteil der Stadt (1 = ganze Stadt)")
    left.set_ylabel("Rechenzeit je Lauf (s)")
    err = np.vstack([table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]])
    right.errorbar(table["scale"], table["mean"], yerr=np.nan_to_num(err), fmt="o-", capsize=3, color="#d08a1f")
    right.set_xlabel("Anteil der Stadt (1 = ganze Stadt)")
    right.set_ylabel("Abstand unzureichende Deutschkenntnisse (Prozentpunkte)")
    fig.suptitle(f"Skalierung: Rechenzeit und Ergebnis nach Größe der Stichprobe – {CITY}, "
                 f"{runs['seed'].nunique()} Seeds, Mittel und 95-%-Intervall", fontsize=12, x=0.01, ha="left")
    fig.tight_layout()
    save(fig, out, "skalierung")
    print(table.to_string(index=False))
    print(f"\nSkalierung -> {out}")
    return out


if __name__ == "__main__":
    analyse(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "multirun" / "scale_series")
