"""The results of a comparison: summary, what changed, and the report's charts, each with its numbers."""

from __future__ import annotations

import functools

import pandas as pd
import solara
import solara.lab

from sim.analysis import charts
from sim.analysis.compare import BASELINE, Comparison, certainty
from sim.analysis.de_format import de
from sim.analysis.indicators import INDICATOR_HELP_DE, INDICATOR_LABELS_DE, LOWER_IS_BETTER, label_subgroup
from sim.engine.mechanisms.measurement import CHAIN_PHASES
from sim.engine.model import START_YEAR
from sim.report import CAPACITY_UNITS, capacity_table, limit_of, summary_table
from sim.ui import citymap, state
from sim.ui import question as q
from sim.ui.widgets import FigureWithTable, ScrollIntoView, Table, csv_bytes, draw_ahead


def interval(low: float, high: float) -> str:
    """A 95 % interval in percentage points; one seed has none (say so rather than show "–")."""
    if pd.isna(low):
        return "erst ab 2 Seeds"
    return f"{de(low * 100, 1)} bis {de(high * 100, 1)}"


def verdict_table(c: Comparison, question: str = q.DEFAULT_QUESTION, child_group: str = q.DEFAULT_CHILD_GROUP) -> pd.DataFrame:
    """Per scenario and indicator of the question, for the chosen children: which way is better,
    the change in points and in children a year, and a plain word for its certainty, or "noch
    nicht messbar" where children who grew up with the levers are not yet measured (sim.ui.question)."""
    diffs = c.differences()
    counts = c.differences("per_year_city")
    last = START_YEAR + c.years - 1
    rows = []
    for scenario in c.scenarios:
        name = scenario.name
        if name == BASELINE:
            continue
        start = q.lever_start(scenario, c.burn_in)
        for indicator in q.indicators_of(question):
            lower = indicator in LOWER_IS_BETTER
            for subgroup_type, subgroup, group in q.CHILD_GROUPS.get(child_group, q.CHILD_GROUPS[q.DEFAULT_CHILD_GROUP])[1]:
                key = ((diffs["scenario"] == name) & (diffs["indicator"] == indicator)
                       & (diffs["subgroup_type"] == subgroup_type) & (diffs["subgroup"] == subgroup))
                d = diffs[key]
                if d.empty:
                    continue
                d = d.iloc[0]
                n = counts[(counts["scenario"] == name) & (counts["indicator"] == indicator)
                           & (counts["subgroup_type"] == subgroup_type) & (counts["subgroup"] == subgroup)]
                word = certainty(d["mean"], d["ci_low"], d["ci_high"], lower)
                rows.append({"Szenario": c.titles[name], "Indikator": INDICATOR_LABELS_DE[indicator], "Gruppe": group,
                             "besser ist": "↓ weniger" if lower else "↑ mehr",
                             "Änderung (Pp.)": de(d["mean"] * 100, 1, sign=True),
                             "95%-Intervall (Pp.)": interval(d["ci_low"], d["ci_high"]),
                             "Kinder je Jahr": de(n["mean"].iloc[0], 0, sign=True) if len(n) else "–",
                             "Urteil": q.verdict_word(word, indicator, start, last)})
    return pd.DataFrame(rows)


def cost_answer(c: Comparison) -> dict[str, str]:
    """Per scenario (not the status quo): what it costs, in a German sentence: the extra cost to the
    city in the last year and summed over the reported years, and to all public budgets."""
    costs = c.costs()
    yearly = costs.groupby(["scenario", "year"])[["extra_over_baseline_eur", "public_extra_over_baseline_eur"]].sum()
    ce = c.cost_effectiveness().set_index("scenario")
    first, last = START_YEAR, START_YEAR + c.years - 1
    out = {}
    for name in c.names:
        if name == BASELINE or name not in yearly.index.get_level_values("scenario"):
            continue
        mine = yearly.loc[name]
        r = ce.loc[name]
        spread = ("" if pd.isna(r["extra_cost_eur_ci_low"]) else
                  f", 95%-Intervall {de(r['extra_cost_eur_ci_low'] / 1e6, 1)} bis {de(r['extra_cost_eur_ci_high'] / 1e6, 1)}")
        out[name] = (f"Mehrkosten für den Haushalt der Stadt: im Jahr {last} {de(mine['extra_over_baseline_eur'].iloc[-1] / 1e6, 1, sign=True)} "
                     f"Mio. EUR, {first}–{last} zusammen {de(mine['extra_over_baseline_eur'].sum() / 1e6, 1, sign=True)} Mio. EUR "
                     f"(nicht abgezinst; im Mittel {de(r['extra_cost_eur'] / 1e6, 1, sign=True)} Mio. EUR je Jahr{spread}); "
                     f"alle öffentlichen Haushalte {first}–{last}: {de(mine['public_extra_over_baseline_eur'].sum() / 1e6, 1, sign=True)} Mio. EUR.")
    return out


CHANGED_CAPACITY = 0.01  # a service whose capacity differs from the status quo's by more than this share


def capacity_answer(c: Comparison) -> dict[str, list[str]]:
    """Per scenario: for each capacity-limited service whose capacity its levers change, what of it
    is used and what limits its reach (why more staff or places may reach no one more)."""
    use = c.capacity_use()
    if use.empty:
        return {}
    base = use[use["scenario"] == BASELINE].set_index("service")
    out: dict[str, list[str]] = {}
    for _, row in use[use["scenario"] != BASELINE].iterrows():
        before = base["capacity"].get(row["service"], float("nan"))
        if pd.isna(before) or abs(row["capacity"] - before) <= CHANGED_CAPACITY * max(before, 1.0):
            continue
        used = f"{de(row['used_share'] * 100, 0)} %" if pd.notna(row["used_share"]) else "–"
        out.setdefault(row["scenario"], []).append(
            f"{row['service_label']} ({row['from_year']}–{row['to_year']}): Kapazität {de(before, 0)} → {de(row['capacity'], 0)} "
            f"{CAPACITY_UNITS[row['capacity_kind']]}, davon genutzt {used}; nachgefragt, aber ohne Platz/Termin: "
            f"{de(row['unserved'], 0)}; im Alter und berechtigt, ohne Nachfrage: {de(row['not_asking'], 0)}. "
            f"Grenze der Reichweite: {limit_of(row)}.")
    return out


def gap_table(c: Comparison) -> pd.DataFrame:
    rows = []
    for indicator in charts.GAP_INDICATORS:
        table = c.value(indicator, "poverty", "gap", quantity="level")
        diff = c.value(indicator, "poverty", "gap", quantity="difference")
        for name in c.names:
            r, d = table.loc[name], diff.loc[name]
            rows.append({"Indikator": INDICATOR_LABELS_DE[indicator], "Szenario": c.titles[name],
                         "Abstand SGB II − nicht SGB II (Pp.)": de(r["mean"] * 100, 1),
                         "95%-Intervall": interval(r["ci_low"], r["ci_high"]),
                         "Änderung ggü. Status quo (Pp.)": de(d["mean"] * 100, 1, sign=True)})
    return pd.DataFrame(rows)


def chain_table(c: Comparison) -> pd.DataFrame:
    rows = []
    for name in c.names:
        for subgroup in ("sgb2", "non_sgb2"):
            row = {"Szenario": c.titles[name], "Gruppe": label_subgroup("poverty", subgroup)}
            for phase in CHAIN_PHASES:
                value = c.value(f"chain_reach_{phase}", "poverty", subgroup, quantity="level").loc[name, "mean"]
                row[charts.PHASE_LABELS[phase].replace("\n", " ")] = de(value * 100, 1)
            rows.append(row)
    return pd.DataFrame(rows)


def heatmap_table(c: Comparison) -> pd.DataFrame:
    diffs = c.differences()
    sel = diffs[diffs["indicator"].isin(charts.HEATMAP_INDICATORS) & diffs["subgroup_type"].isin(["sozialraum_typ", "stadtbezirk"])
                & (diffs["scenario"] != BASELINE)]
    # Stadtbezirk 10 after 9, not between 1 and 2.
    sel = sel.assign(_n=sel["subgroup"].astype(int)).sort_values(["scenario", "indicator", "subgroup_type", "_n"], kind="stable")
    return pd.DataFrame({"Szenario": sel["scenario"].map(c.titles), "Indikator": sel["indicator"].map(INDICATOR_LABELS_DE),
                         "Raum": [label_subgroup(t, g) for t, g in zip(sel["subgroup_type"], sel["subgroup"])],
                         "Änderung (Pp.)": [de(v * 100, 1, sign=True) for v in sel["mean"]],
                         "95%-Intervall": [interval(lo, hi) for lo, hi in zip(sel["ci_low"], sel["ci_high"])]})


@solara.component
def CapacityTab(c: Comparison):
    solara.Markdown(
        "Warum die Reichweite eines Angebots nicht weiter wächst: Monatsmittel der Jahre, in denen die Hebel des "
        "Szenarios voll wirken (Spalte „Jahre“; beim Status quo alle berichteten Jahre), "
        "hochgerechnet auf die Stadt. Ist die Kapazität nicht ausgeschöpft und bleibt niemand ohne Platz oder "
        "Termin, begrenzt nicht die Zahl der Fachkräfte oder Plätze die Reichweite, sondern wer anfragt: "
        "die Familien im Alter und in der Gruppe des Angebots, die es nicht nachfragen (Information, Vertrauen, "
        "Sprache, Aufwand). Dann hilft mehr Kapazität nicht, eher Zugang (aufsuchend, mehrsprachig, warme Übergänge).")
    table = solara.use_memo(lambda: capacity_table(c), [id(c)])
    with solara.Div(classes=["vergleich-kapazitaet"]):
        Table(table)
    solara.FileDownload(csv_bytes(table), filename="kapazitaet_nachfrage.csv", label="Tabelle als CSV", mime_type="text/csv")


@solara.component
def MapTab(c: Comparison):
    others = [n for n in c.names if n != BASELINE]
    scenario, set_scenario = solara.use_state(others[0] if others else BASELINE)
    indicator, set_indicator = solara.use_state(citymap.COMPARISON_MEASURES[0])
    if scenario not in c.names:
        scenario = others[0] if others else BASELINE
    with solara.Row():
        solara.v.Select(label="Szenario", items=[{"text": c.titles[n], "value": n} for n in others], v_model=scenario,
                        on_v_model=set_scenario, dense=True)
        solara.v.Select(label="Indikator", items=[{"text": INDICATOR_LABELS_DE.get(i, i), "value": i}
                                                  for i in citymap.COMPARISON_MEASURES],
                        v_model=indicator, on_v_model=set_indicator, dense=True)
    values = citymap.difference_values(c, scenario, indicator)
    FigureWithTable(
        lambda: map_figure(c, scenario, indicator),
        citymap.by_stadtbezirk(values, _city()).rename(columns={"Mittelwert": "Mittel (Pp.)", "Minimum": "Min (Pp.)",
                                                               "Maximum": "Max (Pp.)"}),
        map_chart_name(scenario, indicator),
        note="Einzelne Sozialräume sind in einer kleinen Stichprobe sehr unsicher; die Tabelle fasst je Stadtbezirk zusammen.",
        dependencies=[id(c), scenario, indicator])


# The names (and so the files and cache keys) of the tab charts that are drawn ahead.
CHAIN_CHART, HEATMAP_CHART = "kette_reichweite", "waermebild_raeume"


def map_chart_name(scenario: str, indicator: str) -> str:
    return f"karte_{scenario}_{indicator}"


def map_figure(c: Comparison, scenario: str, indicator: str):
    return citymap.schematic_map(citymap.difference_values(c, scenario, indicator), _city(),
                                 f"{INDICATOR_LABELS_DE.get(indicator, indicator)}: {c.titles[scenario]} − Status quo",
                                 "Prozentpunkte (blau = besser)", subtitle=c.label(), diverging=True,
                                 better_lower=indicator in LOWER_IS_BETTER)


@functools.lru_cache(maxsize=1)
def _city():
    from sim.inputs.city import load_city

    return load_city()


@solara.component
def Changes(c: Comparison, before: Comparison | None):
    """What changed against the previous comparison: the first thing to check after moving a lever."""
    if before is None:
        return
    now = c.cost_effectiveness().set_index("scenario")
    old = before.cost_effectiveness().set_index("scenario")
    rows = []
    for name in c.names:
        if name == BASELINE:
            continue
        prev = old["extra_children_reached_per_year"].get(name, float("nan"))
        rows.append({"Szenario": c.titles[name], "zusätzlich erreichte Kinder/Jahr vorher": de(prev, 0),
                     "jetzt": de(now.loc[name, "extra_children_reached_per_year"], 0),
                     "Mehrkosten Mio. EUR/Jahr vorher": de(old["extra_cost_eur"].get(name, float("nan")) / 1e6, 2),
                     "jetzt ": de(now.loc[name, "extra_cost_eur"] / 1e6, 2)})
    if rows:
        solara.Markdown("**Gegenüber dem vorigen Vergleich**")
        Table(pd.DataFrame(rows))


def charts_ahead(c: Comparison) -> list[tuple[str, list, object]]:
    """The charts of the tabs after the first, as their tabs name them (the first tab draws its own)."""
    others = [n for n in c.names if n != BASELINE]
    ahead = [(CHAIN_CHART, [id(c)], lambda: charts.chain_chart(c)),
             (HEATMAP_CHART, [id(c)], lambda: charts.heatmap_chart(c))]
    if others:
        scenario, indicator = others[0], citymap.COMPARISON_MEASURES[0]
        ahead.append((map_chart_name(scenario, indicator), [id(c), scenario, indicator],
                      lambda: map_figure(c, scenario, indicator)))
    return ahead


INTERVAL_HELP = (
    "95%-Intervall: der Bereich, in dem die Änderung bei dieser Zahl von Seeds mit 95 % Sicherheit liegt "
    "(gepaarte Differenz zum Status quo). Schließt es die Null ein, ist die Richtung „unklar“ – mehr Seeds oder "
    "eine größere Stichprobe machen es enger. „noch nicht messbar“: in diesen Jahren wird noch kein Kind gemessen, "
    "das mit den Hebeln aufgewachsen ist.")


@solara.component
def Answer(c: Comparison):
    """The answer to the planner's question first: per scenario its cost and, where it changes a
    capacity, what limits its reach; then the verdict for the question's indicators and children."""
    question_label, indicators = q.QUESTIONS.get(state.question.value, q.QUESTIONS[q.DEFAULT_QUESTION])
    group_label = q.CHILD_GROUPS.get(state.child_group.value, q.CHILD_GROUPS[q.DEFAULT_CHILD_GROUP])[0]
    costs = solara.use_memo(lambda: cost_answer(c), [id(c)])
    limits = solara.use_memo(lambda: capacity_answer(c), [id(c)])
    with solara.Div(classes=["vergleich-antwort"]):
        solara.Markdown(f"### Antwort auf Ihre Frage\n**{question_label}** · {group_label} · {c.label()}")
        for scenario in c.scenarios:
            if scenario.name not in costs:
                continue
            text = f"**{scenario.title}**: {costs[scenario.name]}"
            if limits.get(scenario.name):
                text += ("\n\nWas die Reichweite begrenzt (Monatsmittel der Jahre mit voller Wirkung der Hebel; mehr im Reiter „Kapazität und "
                         "Nachfrage“):\n\n" + "\n".join(f"- {line}" for line in limits[scenario.name]))
            solara.Markdown(text)
        solara.Markdown("**Wirkung auf einen Blick** – „sicher besser“ oder „sicher schlechter“, wenn das 95%-Intervall "
                        "der gepaarten Differenz die Null ausschließt, sonst „unklar“. Kinder je Jahr: hochgerechnet auf "
                        "die Stadt. " + INTERVAL_HELP)
        with solara.Div(classes=["vergleich-urteil"]):
            Table(verdict_table(c, state.question.value, state.child_group.value))
        with solara.Details(summary="Was die Indikatoren messen, wann und woher ihr Status quo kommt"):
            Table(pd.DataFrame({"Indikator": [INDICATOR_LABELS_DE[i] for i in indicators],
                                "besser ist": ["↓ weniger" if i in LOWER_IS_BETTER else "↑ mehr" for i in indicators],
                                "gemessen": [q.where_measured(i) for i in indicators],
                                "was er misst, Quelle": [INDICATOR_HELP_DE[i] for i in indicators]}),
                  classes=["vergleich-indikatoren"])


@solara.component
def Results(c: Comparison):
    if id(c) not in state.scrolled_to.value:  # a new result comes into view by itself, once
        state.scrolled_to.value.add(id(c))
        ScrollIntoView.element().key(f"ergebnis-{id(c)}")
    solara.Success(f"Ergebnis fertig: {len(c.names)} Szenarien, gerechnet in {de(c.seconds, 1)} s.",
                   classes=["vergleich-fertig"])
    Answer(c)
    solara.Markdown(f"### Alle Kennzahlen im Überblick\n{c.label()}")
    with solara.Div(classes=["vergleich-ergebnis"]):
        Table(summary_table(c))
    solara.Text("¹ vermiedener Fall = ein Kind weniger mit unzureichenden Deutschkenntnissen bei der "
                "Schuleingangsuntersuchung (Annahme). Zahlen in eckigen Klammern: 95%-Intervall über die Seeds.",
                style={"font-size": "0.85em"})
    Changes(c, state.before_latest())
    if id(c) not in state.drawn_ahead_for.value:  # the other tabs' charts, drawn once in the background
        state.drawn_ahead_for.value.add(id(c))
        draw_ahead(charts_ahead(c), owner=c)
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Abstand arm / nicht arm"):
            FigureWithTable(lambda: charts.gap_chart(c), gap_table(c), "abstand_arm_nicht_arm",
                            dependencies=[id(c)])
        with solara.lab.Tab("Reichweite je Lebensphase"):
            FigureWithTable(lambda: charts.chain_chart(c), chain_table(c), CHAIN_CHART, dependencies=[id(c)])
        with solara.lab.Tab("Kapazität und Nachfrage"):
            CapacityTab(c)
        with solara.lab.Tab("Karte (schematisch)"):
            MapTab(c)
        with solara.lab.Tab("Stadtbezirke und Sozialraumtypen"):
            FigureWithTable(lambda: charts.heatmap_chart(c), heatmap_table(c), HEATMAP_CHART,
                            dependencies=[id(c)])
