"""Vergleichen: choose scenarios (or edit a copy of one), run the paired comparison in the
background, and read the comparison charts with the numbers under each."""

from __future__ import annotations

import functools

import pandas as pd
import solara
import solara.lab

from sim import charts
from sim.compare import BASELINE, Comparison
from sim.indicators import INDICATOR_LABELS_DE, label_subgroup
from sim.mechanisms.measurement import CHAIN_PHASES
from sim.report import de, summary_table
from sim.scenario import load_scenario
from sim.ui import citymap, scenario_store, state
from sim.ui import lever_fields as lf
from sim.ui.widgets import FIX_FIELDS, FigureWithTable, LeverForm, NumberField

INTRO = (
    "Jedes Szenario läuft auf denselben Seeds wie der Status quo (gepaarter Vergleich mit gemeinsamen "
    "Zufallszahlen): ein Unterschied kommt vom Hebel, nicht vom Zufall. Die Vorgaben rechnen in Sekunden; "
    "für belastbare Zahlen die Stichprobe, die Seeds und die Jahre erhöhen (oder `make run`)."
)


# ---- choosing what to compare ---------------------------------------------------------------------
def _titles(names: list[str]) -> dict[str, str]:
    return {n: load_scenario(n).title for n in names}


@solara.component
def ScenarioChoice(names: list[str], titles: dict[str, str]):
    with solara.Card("1. Szenarien", classes=["vergleich-szenarien"]):
        solara.Text(f"Status quo ({titles[BASELINE]}) ist immer dabei.", style={"font-size": "0.85em"})
        for name in names:
            if name == BASELINE:
                continue

            def toggle(on: bool, name=name):
                chosen = [n for n in state.chosen.value if n != name]
                state.chosen.set(chosen + [name] if on else chosen)

            solara.Checkbox(label=titles[name], value=name in state.chosen.value, on_value=toggle,
                            style="margin: 0; height: 30px")


def copy_problem(names: list[str]) -> str | None:
    """Why the edited copy's name cannot be used (German), or None."""
    name = scenario_store.sanitise_name(state.copy_name.value)
    if not name:
        return "Bitte einen Namen mit Buchstaben eingeben"
    if name in scenario_store.PROTECTED or name in names:
        return f"„{name}“ gibt es schon als Szenario; bitte einen anderen Namen wählen"
    return None


@solara.component
def CopyEditor(names: list[str], titles: dict[str, str], base, lever_errors: dict, name_error: str | None):
    with solara.Card("2. Eigenes Szenario: Kopie bearbeiten", classes=["vergleich-kopie"]):
        solara.Checkbox(label="Die bearbeitete Kopie mitvergleichen", value=state.copy_included)

        def choose(name):
            state.copy_base.set(name)
            state.copy_values.set({})

        solara.v.Select(label="Kopie von", items=[{"text": titles[n], "value": n} for n in names],
                        v_model=state.copy_base.value, on_v_model=choose, dense=True)
        NumberField("Name (Dateiname, nur a-z, 0-9, _)", state.copy_name.value, state.copy_name.set, name_error,
                    key="kopie-name")
        solara.InputText("Titel (deutsch)", value=state.copy_title)
        LeverForm(base.levers, state.copy_values, lever_errors, open_group=lf.GROUPS[0])

        def save():
            levers, errors = lf.apply_fields(base.levers, state.copy_values.value)
            if errors or levers is None:
                state.save_message.set((False, FIX_FIELDS))
                return
            copy = scenario_store.edited_copy(base, levers, state.copy_name.value, state.copy_title.value)
            try:
                path = scenario_store.save(copy, directory=_scenario_dir())
            except scenario_store.SaveError as exc:
                state.save_message.set((False, str(exc)))
                return
            state.save_message.set((True, f"Gespeichert: scenarios/{path.name} (geprüft wie jede Szenario-Datei)"))

        solara.Button("Als Szenario-Datei speichern (YAML)", on_click=save, disabled=bool(lever_errors),
                      outlined=True, classes=["vergleich-speichern"])
        if state.save_message.value:
            ok, text = state.save_message.value
            (solara.Success if ok else solara.Error)(text)


def _scenario_dir():
    return scenario_store.SCENARIO_DIR


@solara.component
def RunPanel(scenarios: list, errors: dict[str, str], settings):
    task = state.run_comparison
    running = task.pending
    with solara.Card("3. Rechnen", classes=["vergleich-rechnen"]):
        with solara.Row():
            NumberField(f"Stichprobe in % der Stadt (1 bis {state.MAX_SCALE * 100:.0f})", state.scale_text.value,
                        state.scale_text.set, errors.get("scale"), key="scale")
            NumberField(f"Seeds (1 bis {state.MAX_SEEDS})", state.seeds_text.value, state.seeds_text.set,
                        errors.get("seeds"), key="seeds")
        with solara.Row():
            NumberField(f"Jahre (1 bis {state.MAX_YEARS})", state.years_text.value, state.years_text.set,
                        errors.get("years"), key="years")
            NumberField(f"Einschwingjahre (0 bis {state.MAX_BURN_IN})", state.burn_in_text.value,
                        state.burn_in_text.set, errors.get("burn_in"), key="burn_in")
        if settings:
            solara.Text(f"{len(scenarios)} Szenarien × {settings.seeds} Seeds = {len(scenarios) * settings.seeds} Läufe")
        if errors:
            solara.Error(FIX_FIELDS)
        with solara.Row():
            solara.Button("Vergleich starten", color="primary", disabled=bool(errors) or running,
                          on_click=lambda: state.start(scenarios, settings), classes=["vergleich-starten"])
            if running:
                solara.Button("Abbrechen", color="error", outlined=True, on_click=task.cancel,
                              classes=["vergleich-abbrechen"])
        if running:
            p = state.progress.value
            solara.ProgressLinear(True if p.done == 0 else 100.0 * p.done / max(p.total, 1))
            solara.Text("Wartet auf einen freien Rechenplatz …" if p.waiting else
                        f"Lauf {p.done} von {p.total} fertig – die Oberfläche bleibt bedienbar.",
                        classes=["vergleich-fortschritt"])
        elif task.cancelled:
            solara.Warning("Abgebrochen; es gilt weiter das vorige Ergebnis.")
        elif task.error:
            solara.Error(f"Der Vergleich ist fehlgeschlagen: {task.exception}")


# ---- results ----------------------------------------------------------------------------------------
def gap_table(c: Comparison) -> pd.DataFrame:
    rows = []
    for indicator in charts.GAP_INDICATORS:
        table = c.value(indicator, "poverty", "gap", quantity="level")
        diff = c.value(indicator, "poverty", "gap", quantity="difference")
        for name in c.names:
            r, d = table.loc[name], diff.loc[name]
            rows.append({"Indikator": INDICATOR_LABELS_DE[indicator], "Szenario": c.titles[name],
                         "Abstand SGB II − nicht SGB II (Pp.)": de(r["mean"] * 100, 1),
                         "95%-Intervall": f"{de(r['ci_low'] * 100, 1)} bis {de(r['ci_high'] * 100, 1)}",
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
    return pd.DataFrame({"Szenario": sel["scenario"].map(c.titles), "Indikator": sel["indicator"].map(INDICATOR_LABELS_DE),
                         "Raum": [label_subgroup(t, g) for t, g in zip(sel["subgroup_type"], sel["subgroup"])],
                         "Änderung (Pp.)": [de(v * 100, 1, sign=True) for v in sel["mean"]],
                         "95%-Intervall": [f"{de(lo * 100, 1)} bis {de(hi * 100, 1)}"
                                           for lo, hi in zip(sel["ci_low"], sel["ci_high"])]})


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
    better_lower = indicator in ("insufficient_german_at_school_entry", "multiple_deprivation")
    FigureWithTable(
        lambda: citymap.schematic_map(values, _city(), f"{INDICATOR_LABELS_DE.get(indicator, indicator)}: "
                                      f"{c.titles[scenario]} − Status quo", "Prozentpunkte (grün = besser)",
                                      subtitle=c.label(), diverging=True, better_lower=better_lower),
        citymap.by_stadtbezirk(values, _city()).rename(columns={"Mittelwert": "Mittel (Pp.)", "Minimum": "Min (Pp.)",
                                                               "Maximum": "Max (Pp.)"}),
        f"karte_{scenario}_{indicator}",
        note="Einzelne Sozialräume sind in einer kleinen Stichprobe sehr unsicher; die Tabelle fasst je Stadtbezirk zusammen.",
        dependencies=[id(c), scenario, indicator])


@functools.lru_cache(maxsize=1)
def _city():
    from sim.city import load_city

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
        solara.DataFrame(pd.DataFrame(rows), items_per_page=10)


@solara.component
def Results(c: Comparison):
    solara.Markdown(f"### Ergebnis\n{c.label()} · gerechnet in {c.seconds:.1f} s")
    with solara.Div(classes=["vergleich-ergebnis"]):
        solara.DataFrame(summary_table(c), items_per_page=12)
    solara.Text("¹ vermiedener Fall = ein Kind weniger mit unzureichenden Deutschkenntnissen bei der "
                "Schuleingangsuntersuchung (Annahme).", style={"font-size": "0.85em"})
    Changes(c, state.previous.value)
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Abstand arm / nicht arm"):
            FigureWithTable(lambda: charts.gap_chart(c), gap_table(c), "abstand_arm_nicht_arm",
                            dependencies=[id(c)])
        with solara.lab.Tab("Reichweite je Lebensphase"):
            FigureWithTable(lambda: charts.chain_chart(c), chain_table(c), "kette_reichweite", dependencies=[id(c)])
        with solara.lab.Tab("Karte (schematisch)"):
            MapTab(c)
        with solara.lab.Tab("Stadtbezirke und Sozialraumtypen"):
            FigureWithTable(lambda: charts.heatmap_chart(c), heatmap_table(c), "waermebild_raeume",
                            dependencies=[id(c)])


def selection(names: list[str]):
    """What the forms describe now: scenarios to run, run settings, and every field's problem."""
    base = load_scenario(state.copy_base.value)
    copy_levers, lever_errors = lf.apply_fields(base.levers, state.copy_values.value)
    name_error = copy_problem(names)
    chosen = [n for n in state.chosen.value if n in names and n != BASELINE]
    scenarios = [load_scenario(BASELINE)] + [load_scenario(n) for n in chosen]
    if state.copy_included.value and copy_levers is not None and not name_error:
        scenarios.append(scenario_store.edited_copy(base, copy_levers, state.copy_name.value, state.copy_title.value))
    settings, setting_errors = state.check_run_settings(state.scale_text.value, state.seeds_text.value,
                                                        state.years_text.value, state.burn_in_text.value, len(scenarios))
    errors = dict(setting_errors)
    if state.copy_included.value:
        errors.update(lever_errors)
        if name_error:
            errors["kopie-name"] = name_error
    if len(scenarios) < 2:
        errors["scenarios"] = "Bitte mindestens ein Szenario neben dem Status quo wählen"
    return base, scenarios, settings, errors, lever_errors, name_error


@solara.component
def Page():
    solara.Title("Vergleichen · Präventionskette-Sim")
    names = scenario_store.available(_scenario_dir())
    titles = solara.use_memo(lambda: _titles(names), [tuple(names)])
    base, scenarios, settings, errors, lever_errors, name_error = selection(names)
    solara.Markdown("## Vergleichen\n" + INTRO)
    with solara.Columns([1, 1, 1]):
        ScenarioChoice(names, titles)
        CopyEditor(names, titles, base, lever_errors, name_error)
        with solara.Column():
            RunPanel(scenarios, errors, settings)
            if "scenarios" in errors:
                solara.Warning(errors["scenarios"])
    if state.result.value is not None:
        Results(state.result.value)
    else:
        solara.Info("Noch kein Ergebnis: Szenarien wählen und „Vergleich starten“ drücken.")
