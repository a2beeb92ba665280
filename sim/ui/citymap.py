"""A schematic map of the city: the 10 Stadtbezirke as blocks in their rough position, each
Sozialraum a tile inside its Stadtbezirk, coloured by one value.

The synthetic city has no geometry, so the map is a diagram, not a map of borders; the figure
says so. Values come either from a running model (`live_values`) or from a finished
comparison (`difference_values`: scenario − status quo per Sozialraum, mean over seeds).
"""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from sim.analysis.charts import GermanTicks  # noqa: E402
from sim.analysis.compare import BASELINE, Comparison  # noqa: E402
from sim.engine.mechanisms.measurement import NOT_A_SERVICE_CONTACT  # noqa: E402
from sim.inputs.city import STADTBEZIRK_STADTTEILE, STADTBEZIRKE, City  # noqa: E402

# (column, row) of each Stadtbezirk, north at the top, the Rhine's left bank (4) in the west.
POSITION = {5: (1, 0), 6: (2, 0), 4: (0, 1), 1: (1, 1), 2: (2, 1), 7: (3, 1), 3: (1, 2), 8: (2, 2), 9: (1, 3), 10: (2, 3)}
ROW_STEP = 1.12
SCHEMATIC_NOTE = "schematisch: Stadtbezirke in grober Lage, Kacheln = Sozialräume,\nkeine echten Grenzen; grau: keine Kinder bzw. keine Werte"
# The map is drawn at the width it has on the page (MAP_WIDTH_IN at about 470 px), so that its
# smallest text (MIN_FONT_PT) is at least 11 px on screen (WCAG; checked in tests/test_ui_components.py).
MAP_WIDTH_IN = 5.6
MIN_FONT_PT = 10

# Live measures of a running model: (German label, unit, per-Sozialraum function).
LIVE_MEASURES: dict[str, tuple[str, str]] = {
    "sgb2_share": ("Kinder in SGB-II-Haushalten", "%"),
    "service_reach": ("Kinder, die jetzt ein Angebot nutzen (ohne U-Untersuchungen)", "%"),
    "u3_waiting": ("U3-Warteliste (hochgerechnet auf die Stadt)", "Kinder"),
    "children": ("Kinder unter 18 (hochgerechnet auf die Stadt)", "Kinder"),
    "german": ("Sprachentwicklung Deutsch (Mittelwert, 0 = Durchschnitt)", "Index"),
}
# Indicators for the comparison map (changes in percentage points).
COMPARISON_MEASURES = (
    "service_reach_all", "chain_reach_all", "insufficient_german_at_school_entry", "multiple_deprivation",
    "kita_entry_before_36_months", "u3_care_coverage",
)


def live_values(model, measure: str) -> pd.Series:
    """One value per Sozialraum for the model's current month (NaN where no child lives)."""
    city, pop = model.city, model.pop
    n = city.n_sozialraeume
    ch = pop.children
    alive = ch.alive
    where = pop.households.sozialraum[ch.hh[alive]].astype(np.int64)
    children = np.bincount(where, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "children":
            values = children / model.scale
        elif measure == "sgb2_share":
            poor = pop.households.status[ch.hh[alive]] == 2
            values = 100 * np.bincount(where, weights=poor, minlength=n) / children
        elif measure == "service_reach":
            counted = [k for k, s in enumerate(model.catalogue.ids) if s not in NOT_A_SERVICE_CONTACT]
            using = ch.use[alive][:, counted].any(axis=1)
            values = 100 * np.bincount(where, weights=using, minlength=n) / children
        elif measure == "u3_waiting":
            waiting = ch.waiting[alive][:, model.catalogue.index("u3_kita")]
            values = np.bincount(where, weights=waiting, minlength=n) / model.scale
        elif measure == "german":
            values = np.bincount(where, weights=ch.dev[alive][:, 0], minlength=n) / children
        else:
            raise KeyError(f"unknown measure '{measure}'; known: {', '.join(LIVE_MEASURES)}")
    values = np.where(children > 0, values, np.nan) if measure != "u3_waiting" else values
    return pd.Series(values, index=city.table["sozialraum_id"].to_numpy(), name=LIVE_MEASURES[measure][0])


def difference_values(c: Comparison, scenario: str, indicator: str) -> pd.Series:
    """Scenario − status quo per Sozialraum in percentage points, mean over the paired seeds."""
    runs = c.runs[(c.runs["subgroup_type"] == "sozialraum") & (c.runs["indicator"] == indicator)]
    wide = runs.pivot_table(index="subgroup", columns=["scenario", "seed"], values="value", aggfunc="first")
    if scenario not in wide.columns.get_level_values(0) or BASELINE not in wide.columns.get_level_values(0):
        return pd.Series(dtype=float)
    diff = (wide[scenario] - wide[BASELINE]) * 100
    return diff.mean(axis=1, skipna=True).rename(indicator)


def by_stadtbezirk(values: pd.Series, city: City, weights: pd.Series | None = None) -> pd.DataFrame:
    """The table under the map: one row per Stadtbezirk (mean over its Sozialräume, or a sum)."""
    table = city.table.set_index("sozialraum_id")
    frame = pd.DataFrame({"value": values.reindex(table.index), "bezirk": table["stadtbezirk"]})
    rows = []
    for bezirk in range(1, 11):
        part = frame[frame["bezirk"] == bezirk]["value"]
        rows.append({"Nr.": bezirk, "Stadtbezirk": STADTBEZIRKE[bezirk],
                     "Stadtteile": ", ".join(STADTBEZIRK_STADTTEILE[bezirk]),
                     "Sozialräume": int(len(part)),
                     "Mittelwert": round(float(part.mean()), 2) if part.notna().any() else None,
                     "Minimum": round(float(part.min()), 2) if part.notna().any() else None,
                     "Maximum": round(float(part.max()), 2) if part.notna().any() else None})
    return pd.DataFrame(rows)


def _block_label(bezirk: int) -> str:
    """Düsseldorf's Stadtbezirke are numbered; their Stadtteile would run into the next block
    (a block has room for about twelve characters), so they stand in the table below the map."""
    return f"Bezirk {bezirk}"


def schematic_map(values: pd.Series, city: City, title: str, unit: str, subtitle: str = "",
                  diverging: bool = False, better_lower: bool = False) -> Figure:
    """Blocks of Sozialraum tiles per Stadtbezirk, coloured by values (index: sozialraum_id)."""
    table = city.table
    vals = values.reindex(table["sozialraum_id"]).to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    if diverging:
        limit = max(float(np.abs(finite).max()) if finite.size else 0.0, 0.1)
        norm = TwoSlopeNorm(0.0, -limit, limit)
        cmap = plt.get_cmap("RdBu_r" if better_lower else "RdBu")  # blue better, red worse: colour-blind safe
    else:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        norm = Normalize(lo, hi if hi > lo else lo + 1)
        cmap = plt.get_cmap("viridis")
    fig = Figure(figsize=(MAP_WIDTH_IN, MAP_WIDTH_IN * 0.98))
    ax = fig.add_axes((0.02, 0.08, 0.8, 0.78))
    block = 1.0
    tiles = []  # one collection for all rectangles: adding 180 patches one by one took a fifth of a second
    for bezirk, (col, row) in POSITION.items():
        rows = np.flatnonzero(table["stadtbezirk"].to_numpy() == bezirk)
        side = max(1, math.ceil(math.sqrt(len(rows))))
        tile = 0.9 * block / side
        x0, y0 = col * block + 0.05, -(row * ROW_STEP * block) - 0.05  # room for the label above
        tiles.append(Rectangle((x0 - 0.02, y0 - 0.9 * block - 0.02), 0.9 * block + 0.04, 0.9 * block + 0.04,
                               fill=False, linewidth=1.5, edgecolor="0.2"))
        for k, r in enumerate(rows):
            value = vals[r]
            colour = cmap(norm(value)) if np.isfinite(value) else (0.85, 0.85, 0.85, 1.0)
            tiles.append(Rectangle((x0 + (k % side) * tile, y0 - (k // side + 1) * tile), tile * 0.94, tile * 0.94,
                                   facecolor=colour, edgecolor="white", linewidth=0.5))
        ax.text(x0 + 0.45 * block, y0 + 0.02, _block_label(bezirk), ha="center", va="bottom", fontsize=MIN_FONT_PT)
    ax.add_collection(PatchCollection(tiles, match_original=True))
    ax.set_xlim(-0.05, 4.05)
    ax.set_ylim(-3 * ROW_STEP - 1.05, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    cax = fig.add_axes((0.85, 0.2, 0.03, 0.55))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.set_label(unit, fontsize=10)
    bar.ax.tick_params(labelsize=MIN_FONT_PT)
    bar.ax.yaxis.set_major_formatter(GermanTicks())
    fig.suptitle(textwrap.fill(title, 48), x=0.02, ha="left", fontsize=12, fontweight="bold")
    fig.text(0.02, 0.9, textwrap.fill(subtitle, 62), fontsize=MIN_FONT_PT, color="0.3", va="top")
    fig.text(0.02, 0.01, SCHEMATIC_NOTE, fontsize=MIN_FONT_PT, color="0.35", va="bottom")
    return fig
