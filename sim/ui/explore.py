"""Erkunden: one model runs live in Mesa's SolaraViz, month by month.

The planner picks a scenario, changes levers, sample size and seed, and presses
"Übernehmen"; SolaraViz then steps that model (Mesa's controls: Reset, ▶, Step). Beside it:
monthly charts, the schematic Sozialraum map and an inspector for single children.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from sim.analysis.charts import GermanTicks  # noqa: E402
from sim.analysis.de_format import de_share  # noqa: E402
from sim.engine.agents import STATUS_LABELS_DE  # noqa: E402
from sim.engine.model import START_YEAR, PreventionChainModel  # noqa: E402
from sim.ui import citymap, scenario_store, state  # noqa: E402
from sim.ui import lever_fields as lf  # noqa: E402
from sim.ui.widgets import FIX_FIELDS, ChartImage, LeverForm, NumberField, Table, drawing_of  # noqa: E402

MEASURES = (("Kinder", "Kinder unter 18 (hochgerechnet)"), ("SGB-II-Quote", "Anteil Kinder in SGB II"),
            ("U3-Warteliste", "U3-Warteliste (Kinder)"), ("OGS-Warteliste", "OGS-Warteliste (Kinder)"))
SYNTHETIC = "synthetisches Düsseldorf"
HELP = (
    "**So geht's:** links Szenario, Hebel, Stichprobe und Seed wählen, dann **Übernehmen**. "
    "Darunter steuert Mesa das Modell, mit Mesas eigenen Knöpfen: **Step** = einen Monat weiter, **▶** = laufen "
    "lassen, **❚❚** = anhalten, **Reset** = von vorn; unter *Stand* zählt *Step* die gerechneten Monate. "
    "Die Kästen rechts lassen sich verschieben und in der Größe ändern. "
    f"Alle Zahlen: {SYNTHETIC}, ein Seed, hochgerechnet von der Stichprobe auf die Stadt."
)


def check_settings(scale_percent, seed, years) -> tuple[dict | None, dict[str, str]]:
    from sim.ui.lever_fields import parse_number

    errors: dict[str, str] = {}
    out: dict = {}
    for key, raw, lo, hi, whole in (("scale", scale_percent, state.MIN_SCALE * 100, state.MAX_SCALE * 100, False),
                                    ("seed", seed, 0, 9999, True), ("years", years, 1, state.MAX_YEARS, True)):
        try:
            value = parse_number(raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if whole and not value.is_integer():
            errors[key] = "Bitte eine ganze Zahl eingeben"
        elif not lo <= value <= hi:
            errors[key] = f"Erlaubt: {lf._de(lo)} bis {lf._de(hi)}"
        else:
            out[key] = value
    if errors:
        return None, errors
    return {"scale": out["scale"] / 100, "seed": int(out["seed"]), "years": int(out["years"])}, {}


def model_params(scenario_name: str, levers, settings: dict) -> dict:
    """Everything PreventionChainModel needs; also what Mesa's Reset rebuilds the model from."""
    return {"scenario": scenario_store.scenario(scenario_name), "levers": levers, "seed": settings["seed"],
            "scale": settings["scale"], "years": settings["years"], "burn_in_years": 0}


# The width of a chart on the Erkunden page at the default window (1400 × 900: 473 px measured in
# the e2e test); the charts are drawn so that their smallest text is 11 px there (WCAG).
CHART_DISPLAY_PX = 460
MIN_TEXT_PX = 11


# ---- components shown inside SolaraViz (they get the current model) ------------------------------
def MonthlyCharts(model):
    update_counter.get()
    df = model.datacollector.get_model_vars_dataframe()
    # Drawn at about the width it has on the page, so that its smallest text is 11 px or more.
    fig = Figure(figsize=(citymap.MAP_WIDTH_IN, 5.0))
    axes = fig.subplots(2, 2)
    for ax, (column, title) in zip(axes.flat, MEASURES):
        if len(df):
            y = df[column].to_numpy(float) * (100 if column == "SGB-II-Quote" else 1)
            ax.plot(np.arange(len(df)), y, color="tab:blue")
            ticks = np.linspace(0, len(df) - 1, num=min(3, len(df)), dtype=int)
            ax.set_xticks(ticks, [df["Monat"].iloc[k] for k in ticks])
        ax.set_title(textwrap.fill(title + (" (%)" if column == "SGB-II-Quote" else ""), 24), fontsize=10)
        ax.tick_params(labelsize=citymap.MIN_FONT_PT)
        ax.yaxis.set_major_formatter(GermanTicks())
        ax.grid(alpha=0.3)
    if not len(df):
        fig.text(0.5, 0.5, "Noch kein Monat gerechnet:\nStep oder ▶ drücken", ha="center", fontsize=12,
                 bbox={"facecolor": "white", "edgecolor": "0.5"})
    fig.suptitle(f"Monatsreihen · Seed {model.seed} · Stichprobe {de_share(model.scale)}\n{SYNTHETIC}", fontsize=10)
    fig.tight_layout()
    ChartImage(drawing_of(fig), "monatsreihen")


def SozialraumPanel(model):
    update_counter.get()
    measure = state.explore_map_measure.value
    label, unit = citymap.LIVE_MEASURES[measure]
    solara.v.Select(label="Farbe der Kacheln", items=[{"text": t, "value": k} for k, (t, _) in citymap.LIVE_MEASURES.items()],
                    v_model=measure, on_v_model=state.explore_map_measure.set, dense=True)
    try:
        values = citymap.live_values(model, measure)
    except (IndexError, ValueError):  # the model is stepping in another thread right now
        solara.Text("Die Karte wird gerade aktualisiert …")
        return
    fig = citymap.schematic_map(values, model.city, label, unit,
                                subtitle=f"{SYNTHETIC} · Monat {model.month_label(max(model.t - 1, 0))} · ein Seed ({model.seed})")
    ChartImage(drawing_of(fig), "karte", "Die Zahlen je Stadtbezirk stehen in der Tabelle darunter.")
    table = citymap.by_stadtbezirk(values, model.city)
    Table(table)


def _child_label(child) -> str:
    years = child.age_months // 12
    status = STATUS_LABELS_DE[child.household.poverty_status]
    return f"Kind {child.child_id} · {years} J. · {child.phase_label} · {status}"


def AgentInspector(model):
    update_counter.get()
    try:
        sample = model.sample_children(12, seed=model.seed)
    except ValueError:
        sample = []
    chosen = state.inspector_child.value
    present = chosen is not None and model.child(chosen).present
    candidates = ([model.child(chosen)] if present and chosen not in [c.child_id for c in sample] else []) + sample
    if not present and candidates:
        chosen = candidates[0].child_id

    def pin_shown_child():
        # The sample is drawn anew each month; keep the child shown until the planner picks another.
        if chosen is not None and chosen != state.inspector_child.value:
            state.inspector_child.set(chosen)

    solara.use_effect(pin_shown_child, [chosen])
    solara.Markdown("**Ein Kind ansehen** (Stichprobe der Kinder, die jetzt in der Stadt leben)")
    if not candidates:
        solara.Text("Gerade leben keine Kinder in der Stichprobe.")
        return
    try:
        solara.v.Select(label="Kind", items=[{"text": _child_label(c), "value": c.child_id} for c in candidates],
                        v_model=chosen, on_v_model=state.inspector_child.set, dense=True)
        child = model.child(chosen)
        about = child.describe()
        household = child.household.describe()
    except (IndexError, TypeError, KeyError):  # stepping in another thread
        solara.Text("Wird gerade aktualisiert …")
        return
    facts = {"Alter": f"{about['Alter (Monate)'] // 12} Jahre ({about['Alter (Monate)']} Monate)",
             "Lebensphase": about["Lebensphase"],
             "Kitaeintritt": f"mit {about['Kitaeintritt (Monate)']} Monaten" if about["Kitaeintritt (Monate)"] is not None else "–",
             "Haushalt": f"Nr. {household['Haushalt']}, Sozialraum {household['Sozialraum']}",
             "Armutslage": household["Armutslage"],
             "alleinerziehend": "ja" if household["alleinerziehend"] else "nein",
             "Familiensprache": "nicht Deutsch" if household["Familiensprache nicht Deutsch"] else "Deutsch",
             "Eltern erwerbstätig": "ja" if household["Eltern erwerbstätig"] else "nein",
             "nutzt jetzt": ", ".join(about["nutzt jetzt"]) or "kein Angebot"}
    Table(pd.DataFrame({"": list(facts), "Wert": list(facts.values())}))
    solara.Markdown("**Weg durch die Kette** (Alter beim ersten Kontakt)")
    path = about["Weg durch die Kette"]
    solara.Markdown("\n".join(f"{k + 1}. {step}" for k, step in enumerate(path)) if path else "noch kein Kontakt")


COMPONENTS = [(MonthlyCharts, 0), (SozialraumPanel, 0), (AgentInspector, 0)]


# ---- the page ------------------------------------------------------------------------------------
@solara.component
def Controls(on_apply):
    names = scenario_store.available()
    scenario = solara.use_memo(lambda: scenario_store.scenario(state.explore_scenario.value), [state.explore_scenario.value])
    levers, lever_errors = lf.apply_fields(scenario.levers, state.explore_values.value)
    settings, setting_errors = check_settings(state.explore_scale_text.value, state.explore_seed_text.value,
                                              state.explore_years_text.value)
    errors = {**lever_errors, **setting_errors}
    late = scenario.schedule().starts_outside(START_YEAR, START_YEAR + settings["years"] - 1) if settings else []
    if late:
        start = max(year for _, year in late)
        errors["years"] = f"Die Hebel dieses Szenarios beginnen {start}: bitte mindestens {start - START_YEAR + 1} Jahre wählen"

    def choose(name):
        state.explore_scenario.set(name)
        state.explore_values.set({})

    with solara.Card("Szenario, Stichprobe und Hebel", classes=["erkunden-steuerung"]):
        titles = {n: scenario_store.scenario(n).title for n in names}
        solara.v.Select(label="Szenario", items=[{"text": titles[n], "value": n} for n in names],
                        v_model=state.explore_scenario.value, on_v_model=choose, dense=True)
        solara.Text(scenario.description, style={"font-size": "0.85em"})
        NumberField(f"Stichprobe: Anteil der Stadt in % (1 bis {state.MAX_SCALE * 100:.0f})",
                    state.explore_scale_text.value, state.explore_scale_text.set, errors.get("scale"), key="scale")
        NumberField("Seed (Zufallszahl, 0 bis 9999)", state.explore_seed_text.value, state.explore_seed_text.set,
                    errors.get("seed"), key="seed")
        NumberField(f"Jahre (1 bis {state.MAX_YEARS})", state.explore_years_text.value, state.explore_years_text.set,
                    errors.get("years"), key="years")
        LeverForm(scenario.levers, state.explore_values, lever_errors, open_group=lf.GROUPS[0])
        if errors:
            solara.Error(FIX_FIELDS)
        solara.Button("Übernehmen", color="primary", disabled=bool(errors), classes=["erkunden-uebernehmen"],
                      on_click=lambda: on_apply(model_params(state.explore_scenario.value, levers, settings)))


@solara.component
def Page():
    params = state.explore_applied.value or model_params(
        state.explore_scenario.value,
        lf.apply_fields(scenario_store.scenario(state.explore_scenario.value).levers, state.explore_values.value)[0]
        or scenario_store.scenario(state.explore_scenario.value).levers,
        check_settings(state.explore_scale_text.value, state.explore_seed_text.value,
                       state.explore_years_text.value)[0]
        or {"scale": state.EXPLORE_DEFAULT_SCALE, "seed": 0, "years": state.EXPLORE_DEFAULT_YEARS})
    version = state.explore_version.value
    model = solara.use_memo(lambda: PreventionChainModel(**params), [version])

    def apply(new_params):
        state.explore_applied.set(new_params)
        state.explore_version.set(state.explore_version.value + 1)

    solara.Title("Erkunden · Präventionskette-Sim")
    with solara.Sidebar():
        Controls(apply)
    solara.Markdown(HELP)
    scenario = params["scenario"]
    edited = " · mit geänderten Hebeln" if params["levers"] != scenario.levers else ""
    solara.Text(f"Läuft: {scenario.title}{edited} · {SYNTHETIC} · Stichprobe {de_share(params['scale'])} · "
                f"Seed {params['seed']} · {params['years']} Jahre", classes=["erkunden-status"])
    SolaraViz(model, components=COMPONENTS, model_params=params, name="Erkunden: ein Modell live",
              play_interval=250).key(f"viz-{version}")
