"""The seven budget-meeting charts, as PNG and SVG, German labels, sized for a projector.

Each chart carries the scenarios, the number of seeds and "synthetisches Düsseldorf" (via
Comparison.label()). Every function takes a finished Comparison and returns the figure; `make_all`
writes them all as file pairs.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

from sim.inputs.city import STADTBEZIRKE  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter  # noqa: E402

from sim.analysis.compare import (  # noqa: E402
    AVOIDED_CASE,
    BASELINE,
    DISCOUNT_RATE,
    EXTRA_OVER_BASELINE,
    PERSPECTIVES,
    PLANNING_PERIODS,
    Comparison,
)
from sim.analysis.de_format import de  # noqa: E402
from sim.analysis.indicators import INDICATOR_LABELS_DE  # noqa: E402
from sim.analysis.results import write_figure  # noqa: E402
from sim.engine.mechanisms.measurement import CHAIN_PHASES  # noqa: E402

SIZE = (16, 9)
plt.rcParams.update({"font.size": 14, "axes.titlesize": 16, "axes.labelsize": 14, "legend.fontsize": 12,
                     "figure.titlesize": 20, "svg.fonttype": "none"})

GAP_INDICATORS = (
    "insufficient_german_at_school_entry", "motor_problems_at_school_entry", "sports_club_member_at_school_entry",
    "kita_entry_before_36_months", "gymnasium_transition", "multiple_deprivation",
)
HEATMAP_INDICATORS = ("insufficient_german_at_school_entry", "multiple_deprivation")
EFFECTS = (
    (AVOIDED_CASE, "vermiedene Fälle unzureichender Deutschkenntnisse\nbei der Schuleingangsuntersuchung je Jahr"),
    ("multiple_deprivation", "Kinder weniger mit multipler Deprivation\n(AWO-ISS, 6-17 Jahre, Stichtag März) je Jahr"),
)
PHASE_LABELS = {"early_childhood": "0-2 Jahre", "kita": "Kita\n3-5", "primary": "Grund-\nschule",
                "secondary": "Sek. I", "transition": "Schule-\nBeruf"}


class GermanTicks(ScalarFormatter):
    """Matplotlib's own choice of tick labels (as many decimals as the ticks need), with a decimal comma
    and a thin space between thousands, as `de` writes them ("100 750", not "100750")."""

    def __call__(self, x, pos=None) -> str:
        text = super().__call__(x, pos).replace(".", ",")
        match = re.fullmatch(r"([\u2212-]?)(\d{4,})(,\d+)?", text)
        if match:
            sign, whole, decimals = match.groups()
            text = sign + f"{int(whole):,}".replace(",", "\u202f") + (decimals or "")
        return text


def _title(c: Comparison, name: str, width: int = 34) -> str:
    """A scenario's title on lines of at most `width` characters: names wrap, they are never cut."""
    return _wrap(c.titles[name], width)


def _number(c: Comparison, name: str) -> str:
    """A scenario's number where its name has no room: its place in the comparison, the same in every chart."""
    return str(c.names.index(name) + 1)


def _key(c: Comparison, names: list[str], width: int) -> str:
    """The key to the numbers, one scenario a line, long titles wrapped under their start."""
    return "\n".join("\n".join(textwrap.wrap(f"{_number(c, n)}  {c.titles[n]}", width, subsequent_indent="     "))
                     for n in names)


def _key_rows(c: Comparison, names: list[str], width: int) -> str:
    """The key to the numbers as rows of whole entries, for the foot of a chart."""
    rows, row = [], ""
    for entry in (f"{_number(c, n)} {c.titles[n]}" for n in names):
        if row and len(row) + 5 + len(entry) > width:
            rows.append(row)
            row = entry
        else:
            row = f"{row}     {entry}" if row else entry
    return "\n".join([*rows, row])


def _header(fig, c: Comparison, title: str, intervals: bool = True) -> None:
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.925, c.label() + (" · Balken/Striche: 95%-Intervall über Seeds" if intervals else " · Mittelwerte"),
             ha="left", fontsize=12, color="0.35")


def gap_chart(c: Comparison):
    """1. The SGB II / non-SGB II gap per indicator and scenario, with intervals."""
    fig, axes = plt.subplots(2, 3, figsize=SIZE, sharey=True)
    names = c.names
    y = np.arange(len(names))[::-1]
    for ax, indicator in zip(axes.flat, GAP_INDICATORS):
        row = c.value(indicator, "poverty", "gap", quantity="level")
        mean = row["mean"].to_numpy() * 100
        lo, hi = row["ci_low"].to_numpy() * 100, row["ci_high"].to_numpy() * 100
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
        colors = ["0.45" if n == BASELINE else "tab:blue" for n in names]
        ax.barh(y, mean, color=colors, alpha=0.8)
        ax.errorbar(mean, y, xerr=err, fmt="none", ecolor="black", capsize=3)
        base = mean[names.index(BASELINE)]
        ax.axvline(base, color="0.45", linestyle="--", linewidth=1)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(_wrap(INDICATOR_LABELS_DE[indicator], 40), fontsize=13)
        ax.set_xlabel("Abstand SGB II − nicht SGB II (Prozentpunkte)", fontsize=11)
        ax.xaxis.set_major_formatter(GermanTicks())
    axes[0, 0].set_yticks(y, [_number(c, n) for n in names])
    axes[1, 0].set_yticks(y, [_number(c, n) for n in names])
    fig.text(0.805, 0.5, _key(c, names, 34), va="center", fontsize=12)
    _header(fig, c, "Abstand zwischen armen und nicht armen Kindern je Indikator und Szenario")
    fig.tight_layout(rect=(0, 0, 0.8, 0.91))
    return fig


def efficient(cost: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Scenarios no other scenario beats: none costs at most as much and does at least as well (one strictly)."""
    out = np.ones(cost.size, dtype=bool)
    for i in range(cost.size):
        better = (cost <= cost[i]) & (effect >= effect[i]) & ((cost < cost[i]) | (effect > effect[i]))
        out[i] = not better.any()
    return out


def cost_effect_chart(c: Comparison):
    """2. Extra cost against effect, efficient scenarios marked and joined."""
    fig, axes = plt.subplots(1, 2, figsize=SIZE)
    ce = c.cost_effectiveness().set_index("scenario").reindex(c.names)
    cost = ce["extra_cost_eur"].to_numpy() / 1e6
    cost_err = np.nan_to_num(np.vstack([cost - ce["extra_cost_eur_ci_low"] / 1e6, ce["extra_cost_eur_ci_high"] / 1e6 - cost]))
    counts = c.differences("per_year_city")
    for ax, (indicator, label) in zip(axes, EFFECTS):
        row = counts[(counts["indicator"] == indicator) & (counts["subgroup_type"] == "all")].set_index("scenario").reindex(c.names)
        effect = -row["mean"].to_numpy()  # fewer cases is the effect
        # The effect's interval is the difference's interval mirrored.
        eff_err = np.nan_to_num(np.vstack([row["ci_high"].to_numpy() - row["mean"].to_numpy(),
                                           row["mean"].to_numpy() - row["ci_low"].to_numpy()]))
        ax.errorbar(cost, effect, xerr=cost_err, yerr=eff_err, fmt="none", ecolor="0.6", capsize=3, zorder=1)
        if np.allclose(np.nan_to_num(effect), 0) and not eff_err.any():
            # No scenario changed this outcome in any seed: in these years no child who grew up with
            # a lever has reached it. Efficiency would then rank by cost alone, so it is not shown.
            ax.scatter(cost, effect, s=110, facecolors="white", edgecolors="0.4", linewidths=2, zorder=2)
            ax.text(0.5, 0.75, "keine Änderung gemessen: in diesen Jahren\nhat kein Szenario dieses Ergebnis verändert.\n"
                    "Wirkungen bei der Schuleingangsuntersuchung\nzeigen sich erst etwa sechs Jahre nach dem\n"
                    "Start eines Hebels; Effizienz nicht bewertet.", transform=ax.transAxes, ha="center", va="center",
                    fontsize=12, bbox={"facecolor": "white", "edgecolor": "0.5"})
        else:
            mask = efficient(cost, effect)
            ax.scatter(cost[~mask], effect[~mask], s=110, facecolors="white", edgecolors="tab:blue", linewidths=2,
                       zorder=2, label="nicht effizient")
            ax.scatter(cost[mask], effect[mask], s=140, color="tab:green", zorder=3, label="effizient (nicht übertroffen)")
            order = np.argsort(cost[mask])
            ax.plot(cost[mask][order], effect[mask][order], color="tab:green", linewidth=1.5, zorder=2)
            ax.legend(loc="lower right")
        for k in range(len(c.names)):  # numbers, not names: points near zero would overlap
            ax.annotate(_number(c, c.names[k]), (cost[k], effect[k]), textcoords="offset points", xytext=(7, 5), fontsize=12,
                        fontweight="bold")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("Mehrkosten der Stadt (Mio. EUR je Jahr)")
        ax.set_ylabel(label, fontsize=12)
        ax.xaxis.set_major_formatter(GermanTicks())
        ax.yaxis.set_major_formatter(GermanTicks())
    fig.text(0.76, 0.5, _key(c, c.names, 40), va="center", fontsize=12, family="DejaVu Sans")
    _header(fig, c, "Kosten und Wirkung: welche Szenarien lohnen sich?")
    fig.tight_layout(rect=(0, 0, 0.75, 0.91))
    return fig


def chain_chart(c: Comparison):
    """3. Where children fall out of the chain: reach in each life phase per scenario."""
    fig, axes = plt.subplots(1, 2, figsize=SIZE, sharey=True)
    x = np.arange(len(CHAIN_PHASES))
    for ax, (subgroup, title) in zip(axes, (("sgb2", "Kinder in SGB-II-Haushalten"), ("non_sgb2", "Kinder nicht in SGB II"))):
        for k, name in enumerate(c.names):
            means, lows, highs = [], [], []
            for phase in CHAIN_PHASES:
                row = c.value(f"chain_reach_{phase}", "poverty", subgroup, quantity="level").loc[name]
                means.append(row["mean"] * 100)
                lows.append(row["ci_low"] * 100)
                highs.append(row["ci_high"] * 100)
            style = dict(color="black", linewidth=3, linestyle="--") if name == BASELINE else dict(linewidth=2)
            ax.plot(x, means, marker="o", label=_title(c, name), **style)
        ax.set_xticks(x, [PHASE_LABELS[p] for p in CHAIN_PHASES])
        ax.set_title(title)
        ax.set_ylabel("von einem Angebot der Kette erreicht (%)")
        ax.grid(axis="y", alpha=0.3)
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11)
    _header(fig, c, "Wo Kinder aus der Kette fallen: Reichweite in jeder Lebensphase")
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    return fig


def heatmap_chart(c: Comparison):
    """4. Change against the status quo per Sozialraumtyp and Stadtbezirk, as a heat map."""
    others = [n for n in c.names if n != BASELINE]
    rows = [("sozialraum_typ", str(k), f"Typ {k}") for k in range(1, 6)]
    rows += [("stadtbezirk", str(k), f"{k:>2} {STADTBEZIRKE[k]}") for k in range(1, 11)]
    fig, axes = plt.subplots(1, 2, figsize=SIZE)
    diffs = c.differences()
    for ax, indicator in zip(axes, HEATMAP_INDICATORS):
        sel = diffs[diffs["indicator"] == indicator].set_index(["scenario", "subgroup_type", "subgroup"])["mean"]
        grid = np.array([[sel.get((n, t, g), np.nan) * 100 for n in others] for t, g, _ in rows])
        limit = max(float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0.0, 0.1)
        # Fewer cases is better: improvements blue, worsening red (a scale colour-blind readers can tell apart).
        image = ax.imshow(grid, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, de(grid[i, j], 1, sign=True), ha="center", va="center", fontsize=11)
        ax.set_xticks(range(len(others)), [_number(c, n) for n in others], fontsize=12)
        ax.set_xlabel("Szenario (Nummer, siehe unten)", fontsize=12)
        ax.set_yticks(range(len(rows)), [r[2] for r in rows], fontsize=11)
        ax.axhline(4.5, color="black", linewidth=1.5)
        ax.set_title(_wrap(INDICATOR_LABELS_DE[indicator], 45) + "\nÄnderung in Prozentpunkten", fontsize=13)
        bar = fig.colorbar(image, ax=ax, shrink=0.7, label="Prozentpunkte (blau = besser)")
        bar.ax.yaxis.set_major_formatter(GermanTicks())
    fig.text(0.01, 0.01, _key_rows(c, others, 170), va="bottom", fontsize=12)
    _header(fig, c, "Änderung gegenüber Status quo nach Sozialraumtyp und Stadtbezirk")
    fig.tight_layout(rect=(0, 0.09, 1, 0.91))
    return fig


# Three colours for every difference chart of money (colour-blind safe: blue and orange differ in
# hue and lightness for every common form of colour blindness; the balance is black).
EXTRA_COST_COLOR, SAVING_COLOR, BALANCE_COLOR = "#1f5a94", "#d9730d", "black"
BUDGET_LINES = 9  # cost lines shown by name; the rest are summed into one row


def budget_chart(c: Comparison, perspective: str = "city"):
    """5. Extra cost over the status quo by cost line (the city's budget, or all public budgets),
    mean of the reported years: one panel per scenario, a bar per cost line (blue: costs more,
    orange: saves), the balance last. Every panel has the same lines in the same order, so a line
    is read across the scenarios."""
    column, payer = EXTRA_OVER_BASELINE[perspective], PERSPECTIVES[perspective][1]
    costs = c.costs()
    extra = costs.groupby(["scenario", "service_label"])[column].mean().unstack("service_label")
    extra = extra.reindex([n for n in c.names if n != BASELINE]).fillna(0.0) / 1e6
    balance = extra.sum(axis=1)
    # The lines that matter by name: those that move by more than 0.05 M EUR in some scenario, largest
    # first; every other line is summed into one row, so that the bars add up to the balance.
    moving = extra.columns[extra.abs().max() > 0.05]
    named = list(extra[moving].abs().sum().sort_values(ascending=False).index)
    if len(named) > BUDGET_LINES:
        named = named[:BUDGET_LINES - 1]
    rest = extra.drop(columns=named).sum(axis=1)
    extra = extra[named]
    if rest.abs().max() > 0.005:
        extra = extra.assign(**{"übrige Kostenzeilen": rest})
    rows = [_wrap(line, 44) for line in extra.columns] + ["Saldo"]
    n = max(len(extra), 1)
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(SIZE[0], max(SIZE[1], 1.6 + 0.5 * len(rows) * nrows)),
                             sharey=True, squeeze=False)
    y = np.arange(len(rows))[::-1]
    limit = max(float(extra.abs().to_numpy().max(initial=0.0)), float(balance.abs().max(skipna=True)) if len(extra) else 0.0, 0.1)
    for k, ax in enumerate(axes.flat):
        if k >= len(extra):
            ax.set_visible(False)
            continue
        name = extra.index[k]
        values = np.append(extra.loc[name].to_numpy(), balance[name])
        colors = [EXTRA_COST_COLOR if v >= 0 else SAVING_COLOR for v in values[:-1]] + [BALANCE_COLOR]
        ax.barh(y, values, color=colors, height=0.7)
        for yy, v in zip(y, values):
            if abs(v) >= 0.005:
                ax.text(v, yy, f" {de(v, 1, sign=True)} " if abs(v) >= 0.05 else f" {de(v, 2, sign=True)} ",
                        va="center", ha="left" if v >= 0 else "right", fontsize=11)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.axhline(0.5, color="0.6", linewidth=0.8)  # the balance below the line
        ax.set_xlim(-1.45 * limit, 1.45 * limit)
        ax.set_title(_wrap(c.titles[name], 28), fontsize=13)
        ax.xaxis.set_major_formatter(GermanTicks())
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
    for ax in axes[:, 0]:
        ax.set_yticks(y, rows, fontsize=11)
    fig.supxlabel(f"Mehrkosten gegenüber Status quo, {payer} (Mio. EUR je Jahr, Mittel der Jahre und Seeds); "
                  "blau: kostet mehr, orange: spart", fontsize=13)
    _header(fig, c, "Wohin das zusätzliche Geld geht: Mehrkosten nach Kostenzeile", intervals=False)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    return fig


def path_chart(c: Comparison):
    """6. The path over the years: the extra cost to the city each year, and the effect each year."""
    paths = c.paths()
    annual = paths[paths["kind"] == "annual"]
    fig, axes = plt.subplots(1, 2, figsize=SIZE)
    panels = (("extra_cost_city", 1e-6, "Mehrkosten Haushalt der Stadt (Mio. EUR im Jahr)"),
              (f"effect:{AVOIDED_CASE}", 1.0, "vermiedene Fälle unzureichender Deutschkenntnisse\nbei der Schuleingangsuntersuchung im Jahr"))
    colors = plt.get_cmap("tab10").colors
    for ax, (quantity, scale, label) in zip(axes, panels):
        for k, name in enumerate(n for n in c.names if n != BASELINE):
            row = annual[(annual["scenario"] == name) & (annual["quantity"] == quantity)].sort_values("year")
            if row.empty:
                continue
            ax.plot(row["year"], row["mean"] * scale, color=colors[k % 10], linewidth=2.2, label=_title(c, name, 40))
            ax.fill_between(row["year"], row["ci_low"] * scale, row["ci_high"] * scale, color=colors[k % 10], alpha=0.15)
        ax.axhline(0, color="black", linewidth=0.8)
        for start, end in PLANNING_PERIODS:
            if end < annual["year"].max():
                ax.axvline(end + 0.5, color="0.5", linestyle=":", linewidth=1)
                ax.text(end + 0.6, 1.0, f"Ende {start}-{end}", transform=ax.get_xaxis_transform(), va="top", fontsize=10, color="0.35")
        ax.set_xlabel("Kalenderjahr")
        ax.set_ylabel(label, fontsize=12)
        ax.yaxis.set_major_formatter(GermanTicks())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # one tick a year at most, never "2026 2026 2026"
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, max(len(labels), 1)), fontsize=11, frameon=False)
    _header(fig, c, "Der Pfad über die Jahre: wann ein Hebel kostet und wann er wirkt (Band: 95%-Intervall)")
    fig.tight_layout(rect=(0, 0.1, 1, 0.91))
    return fig


def cumulative_chart(c: Comparison):
    """7. Cumulative discounted extra cost against cumulative discounted effect, from the first
    planning year on: a line per scenario, one point per year, the planning periods' ends marked."""
    paths = c.paths()
    cum = paths[paths["kind"] == "cumulative_discounted"]
    first = PLANNING_PERIODS[0][0]
    fig, ax = plt.subplots(figsize=SIZE)
    colors = plt.get_cmap("tab10").colors
    for k, name in enumerate(n for n in c.names if n != BASELINE):
        cost = cum[(cum["scenario"] == name) & (cum["quantity"] == "extra_cost_city")].set_index("year")["mean"]
        effect = cum[(cum["scenario"] == name) & (cum["quantity"] == f"effect:{AVOIDED_CASE}")].set_index("year")["mean"]
        years = [y for y in cost.index if y >= first and y in effect.index]
        if not years:
            continue
        ax.plot(effect[years], cost[years] / 1e6, marker="o", markersize=4, color=colors[k % 10], linewidth=2,
                label=_title(c, name, 40))
        for start, end in PLANNING_PERIODS:
            if end in years:
                ax.annotate(str(end), (effect[end], cost[end] / 1e6), textcoords="offset points", xytext=(6, 4), fontsize=11)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"vermiedene Fälle unzureichender Deutschkenntnisse, aufsummiert ab {first} (abgezinst)")
    ax.set_ylabel(f"Mehrkosten der Stadt, aufsummiert ab {first} (Mio. EUR, abgezinst mit {de(DISCOUNT_RATE * 100, 0)} %)")
    ax.xaxis.set_major_formatter(GermanTicks())
    ax.yaxis.set_major_formatter(GermanTicks())
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11)
    _header(fig, c, "Kumulierte Kosten und Wirkung: wann sich ein Hebel auszahlt")
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    return fig


CHARTS = {
    "1_abstand_arm_nicht_arm": gap_chart,
    "2_kosten_wirkung": cost_effect_chart,
    "3_kette_reichweite": chain_chart,
    "4_heatmap_raeume": heatmap_chart,
    "5_budget_angebote": budget_chart,
    "6_pfad_jahre": path_chart,
    "7_kumuliert": cumulative_chart,
}


def make_all(c: Comparison, folder: Path) -> list[Path]:
    """Write every chart as PNG and SVG into folder; returns the files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, draw in CHARTS.items():
        fig = draw(c)
        for suffix in ("png", "svg"):
            path = folder / f"{name}.{suffix}"
            write_figure(fig, path, dpi=110 if suffix == "png" else None)
            files.append(path)
        plt.close(fig)
    return files


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))

