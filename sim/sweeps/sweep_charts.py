"""Charts of a collected sweep and of the experiments: German labels, PNG and SVG.

Every title names the synthetic Düsseldorf and the seeds; intervals are 95 % over seeds.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis.indicators import INDICATOR_LABELS_DE  # noqa: E402
from sim.analysis.results import write_figure  # noqa: E402
from sim.sweeps.sweep_tables import GAP_INDICATORS, seed_statistics, variant_columns  # noqa: E402

CITY = "synthetisches Düsseldorf"


def save(fig, folder: Path, name: str) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in ("png", "svg"):
        path = folder / f"{name}.{suffix}"
        write_figure(fig, path, dpi=110 if suffix == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _labels(table: pd.DataFrame, runs: pd.DataFrame) -> pd.Series:

    keys = [k for k in variant_columns(runs) if k in table.columns]
    varying = [k for k in keys if runs[k].astype(str).nunique() > 1]
    shown = [k for k in varying if k != "scenario"]

    def label(row) -> str:
        parts = [str(row["scenario"])] if "scenario" in table.columns else []
        return " · ".join(parts + [f"{k.split('.')[-1]}={row[k]}" for k in shown])

    return table.apply(label, axis=1)


def _seeds_note(runs: pd.DataFrame) -> str:
    seeds = sorted(runs["seed"].unique())
    return f"{len(seeds)} Seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds[:6]))}{' …' if len(seeds) > 6 else ''})"


def gap_chart(summary: pd.DataFrame, runs: pd.DataFrame, indicators) -> plt.Figure:
    gap = summary[(summary["subgroup_type"] == "poverty") & (summary["subgroup"] == "gap")
                  & summary["indicator"].isin(indicators)].copy()
    gap["label"] = _labels(gap, runs)
    shown = [i for i in indicators if i in set(gap["indicator"])]
    labels = list(dict.fromkeys(gap["label"]))
    cols = 3
    rows = max(1, int(np.ceil(len(shown) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 0.45 * len(labels) * rows + 2.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, shown):
        part = gap[gap["indicator"] == name].set_index("label").reindex(labels)
        y = np.arange(len(labels))
        mean = 100 * part["mean"].to_numpy(float)
        err = np.vstack([mean - 100 * part["ci_low"].to_numpy(float), 100 * part["ci_high"].to_numpy(float) - mean])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="o", color="#1f5fa8", ecolor="#8aa9cf", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, [textwrap.shorten(label, 38) for label in labels], fontsize=9)
        ax.invert_yaxis()
        ax.set_title(textwrap.fill(INDICATOR_LABELS_DE.get(name, name), 42), fontsize=10)
        ax.set_xlabel("Abstand SGB II − nicht SGB II (Prozentpunkte)", fontsize=9)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.suptitle(f"Abstand zwischen armen und nicht armen Kindern je Variante – {CITY}, {_seeds_note(runs)}, "
                 "Mittel und 95-%-Intervall über Seeds", fontsize=12, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def cost_chart(runs: pd.DataFrame) -> plt.Figure:

    keys = variant_columns(runs)
    table = seed_statistics(runs.astype({k: str for k in keys}), keys, "annual_cost_eur")
    table["label"] = _labels(table, runs)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.8))
    y = np.arange(len(table))
    mean = table["mean"].to_numpy(float) / 1e6
    err = np.vstack([mean - table["ci_low"].to_numpy(float) / 1e6, table["ci_high"].to_numpy(float) / 1e6 - mean])
    ax.barh(y, mean, xerr=np.nan_to_num(err), color="#7fa7d4", capsize=3)
    ax.set_yticks(y, [textwrap.shorten(label, 45) for label in table["label"]], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("Kosten, Haushalt der Stadt (Mio. EUR je Jahr)")
    ax.set_title(f"Jährliche Kosten je Variante – {CITY}, {_seeds_note(runs)}", fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def sweep_charts(summary: pd.DataFrame, runs: pd.DataFrame, folder: Path) -> list[Path]:

    paths = save(gap_chart(summary, runs, GAP_INDICATORS), folder, "abstand_je_variante")
    paths += save(cost_chart(runs), folder, "kosten_je_variante")
    return paths
