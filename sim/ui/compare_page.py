"""Vergleichen: choose scenarios (or edit a copy of one) and run the paired comparison in the
background; the results are drawn by `compare_results`."""

from __future__ import annotations

import solara

from sim.analysis.compare import BASELINE
from sim.engine.model import START_YEAR
from sim.analysis.indicators import INDICATOR_LABELS_DE
from sim.ui import question as q
from sim.ui import scenario_store, state
from sim.ui import lever_fields as lf
from sim.ui.compare_results import Results
from sim.ui.widgets import FIX_FIELDS, KeptSettings, LeverForm, NumberField

INTRO = (
    "Jedes Szenario läuft auf denselben Seeds wie der Status quo (gepaarter Vergleich mit gemeinsamen "
    "Zufallszahlen): ein Unterschied kommt vom Hebel, nicht vom Zufall. Die Vorgaben rechnen in Sekunden; "
    "für belastbare Zahlen die Stichprobe, die Seeds (Wiederholungen mit anderen Zufallszahlen) und die Jahre erhöhen. "
    "Die Einstellungen bleiben in diesem Browser auch nach dem Neuladen erhalten; Ergebnisse werden neu gerechnet."
)


# ---- choosing what to compare ---------------------------------------------------------------------
def _titles(names: list[str]) -> dict[str, str]:
    return {n: scenario_store.scenario(n).title for n in names}


@solara.component
def ScenarioChoice(names: list[str], titles: dict[str, str]):
    with solara.Card("2. Szenarien", classes=["vergleich-szenarien"]):
        solara.Text(f"„{titles[BASELINE]}“ ist immer dabei: jedes Szenario wird mit ihm verglichen.",
                    style={"font-size": "0.85em"})
        for name in names:
            if name == BASELINE:
                continue

            def toggle(on: bool, name=name):
                chosen = [n for n in state.chosen.value if n != name]
                state.chosen.set(chosen + [name] if on else chosen)

            solara.Checkbox(label=titles[name], value=name in state.chosen.value, on_value=toggle,
                            style="margin: 0")
            # what the scenario changes, so that "20 Lotsen" can be found without opening a file
            solara.Text(scenario_store.scenario(name).description, classes=["szenario-beschreibung"],
                        style={"font-size": "0.8em", "color": "#4a4a4a", "margin": "-0.4em 0 0.4em 2.2em",
                               "display": "block"})


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
    with solara.Card("3. Eigenes Szenario: Kopie bearbeiten", classes=["vergleich-kopie"]):
        solara.Checkbox(label="Die bearbeitete Kopie mitvergleichen", value=state.copy_included)

        def choose(name):
            state.copy_base.set(name)
            state.copy_values.set({})

        solara.v.Select(label="Kopie von", items=[{"text": titles[n], "value": n} for n in names],
                        v_model=state.copy_base.value, on_v_model=choose, dense=True)
        NumberField("Name (Dateiname, nur a-z, 0-9, _)", state.copy_name.value, state.copy_name.set, name_error,
                    key="kopie-name")
        solara.InputText("Titel (deutsch)", value=state.copy_title, classes=["feld-kopie-titel"])
        with solara.Row():
            NumberField(f"Hebel ab Jahr (leer: wie „{titles[base.name]}“)", state.copy_start_text.value,
                        state.copy_start_text.set, lever_errors.get("kopie-start"), key="kopie-start")
            NumberField("Aufbau über Jahre (0: sofort voll)", state.copy_build_text.value, state.copy_build_text.set,
                        lever_errors.get("kopie-aufbau"), key="kopie-aufbau")
        solara.Text("Vor dem Startjahr gilt der Status quo; im Aufbau wächst jeder Hebel in gleichen Jahresschritten.",
                    style={"font-size": "0.85em"})
        LeverForm(base.levers, state.copy_values, lever_errors, open_group=lf.GROUPS[0])

        def save():
            levers, errors = lf.apply_fields(base.levers, state.copy_values.value)
            timing, timing_errors = _copy_timing()
            if errors or timing_errors or levers is None:
                state.save_message.set((False, FIX_FIELDS))
                return
            copy = scenario_store.edited_copy(base, levers, state.copy_name.value, state.copy_title.value, timing=timing)
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


def _copy_timing():
    """The copy's timing from its two fields, checked against the years a comparison can simulate."""
    return state.check_timing(state.copy_start_text.value, state.copy_build_text.value,
                              START_YEAR - state.MAX_BURN_IN, START_YEAR + state.MAX_YEARS - 1)


def last_year(settings) -> int:
    return START_YEAR + settings.years - 1


def horizon_years(end_year: int) -> int:
    """Reported years from START_YEAR up to end_year."""
    return end_year - START_YEAR + 1


def measurability(scenarios: list, settings) -> tuple[bool, str] | None:
    """Whether the chosen years can measure the question's indicators (German), or None without settings."""
    if settings is None:
        return None
    return q.measurability_text(scenarios, q.indicators_of(state.question.value), last_year(settings),
                                INDICATOR_LABELS_DE, settings.burn_in)


@solara.component
def MeasurabilityNote(scenarios: list, settings):
    said = measurability(scenarios, settings)
    if said is not None:
        ok, text = said
        (solara.Success if ok else solara.Warning)(children=[solara.Markdown(text)], classes=["vergleich-messbar"])


@solara.component
def QuestionCard(scenarios: list, settings):
    """What the planner wants to know comes first: indicators, children, horizon."""
    with solara.Card("1. Ihre Frage", classes=["vergleich-frage"]):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "1.5em"}):
            solara.v.Select(label="Was wollen Sie wissen?", v_model=state.question.value, on_v_model=state.question.set,
                            items=[{"text": label, "value": key} for key, (label, _) in q.QUESTIONS.items()],
                            dense=True, class_="feld-frage", style_="min-width: 30em; max-width: 40em")
            solara.v.Select(label="Für welche Kinder?", v_model=state.child_group.value, on_v_model=state.child_group.set,
                            items=[{"text": label, "value": key} for key, (label, _) in q.CHILD_GROUPS.items()],
                            dense=True, class_="feld-gruppe", style_="min-width: 18em; max-width: 24em")
        ends = q.horizon_ends(state.question.value, scenarios, START_YEAR + state.MAX_YEARS - 1)
        years = settings.years if settings else None

        def choose(end_year: int) -> None:
            state.years_text.set(str(horizon_years(end_year)))
            state.burn_in_text.set("1")

        with solara.Row(classes=["vergleich-horizont"], style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Bis wann?")
            for key, (label, end) in ends.items():
                active = years == horizon_years(end)
                solara.Button(label, on_click=lambda end=end: choose(end), outlined=not active,
                              color="primary" if active else None, small=True, classes=[f"horizont-{key}"],
                              attributes={"aria-pressed": "true" if active else "false"})
            if settings:
                solara.Text(f"gerechnet {START_YEAR}–{last_year(settings)} ({settings.years} Jahre; "
                            "selbst wählen unter „4. Rechnen“)", style={"font-size": "0.85em"})
        MeasurabilityNote(scenarios, settings)


def _late_start(scenarios: list, settings) -> str | None:
    """Why the chosen years cannot show a scenario's levers (they start after the last year), or None."""
    first, last = START_YEAR - settings.burn_in, START_YEAR + settings.years - 1
    for scenario in scenarios:
        for _, start in scenario.schedule().starts_outside(first, last):
            return (f"Die Hebel von „{scenario.title}“ beginnen {start}; gerechnet wird {first} bis {last}. "
                    f"Bitte mindestens {start - START_YEAR + 1} Jahre wählen")
    return None


@solara.component
def RunProgress():
    """The progress of the running comparison, a component of its own: its many updates re-render
    only the bar, never the fields above it, so a value typed meanwhile is not overwritten."""
    p = state.progress.value
    solara.ProgressLinear(True if p.done == 0 else 100.0 * p.done / max(p.total, 1))
    solara.Text("Wartet auf einen freien Rechenplatz …" if p.waiting else
                f"Lauf {p.done} von {p.total} fertig – die Oberfläche bleibt bedienbar.",
                classes=["vergleich-fortschritt"])


@solara.component
def RunPanel(scenarios: list, errors: dict[str, str], settings, question_shown: bool = False):
    task = state.run_comparison
    running = task.pending
    with solara.Card("4. Rechnen" if question_shown else "Rechnen", classes=["vergleich-rechnen"]):
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
            if not question_shown:
                MeasurabilityNote(scenarios, settings)
        if errors:
            solara.Error(FIX_FIELDS)
        with solara.Row():
            solara.Button("Vergleich starten", color="primary", disabled=bool(errors) or running,
                          on_click=lambda: state.start(scenarios, settings), classes=["vergleich-starten"])
            if running:
                solara.Button("Abbrechen", color="error", outlined=True, on_click=task.cancel,
                              classes=["vergleich-abbrechen"])
        if running:
            RunProgress()
        elif task.cancelled:
            solara.Warning("Abgebrochen; es gilt weiter das vorige Ergebnis.")
        elif task.error:
            solara.Error(f"Der Vergleich ist fehlgeschlagen: {task.exception}")


def selection(names: list[str]):
    """What the forms describe now: scenarios to run, run settings, and every field's problem."""
    base = scenario_store.scenario(state.copy_base.value)
    copy_levers, lever_errors = lf.apply_fields(base.levers, state.copy_values.value)
    timing, timing_errors = _copy_timing()
    lever_errors = {**lever_errors, **timing_errors}
    name_error = copy_problem(names)
    chosen = [n for n in state.chosen.value if n in names and n != BASELINE]
    scenarios = [scenario_store.scenario(BASELINE)] + [scenario_store.scenario(n) for n in chosen]
    if state.copy_included.value and copy_levers is not None and not name_error and not timing_errors:
        scenarios.append(scenario_store.edited_copy(base, copy_levers, state.copy_name.value, state.copy_title.value,
                                                    timing=timing))
    settings, setting_errors = state.check_run_settings(state.scale_text.value, state.seeds_text.value,
                                                        state.years_text.value, state.burn_in_text.value, len(scenarios))
    errors = dict(setting_errors)
    late = _late_start(scenarios, settings) if settings else None
    if late:
        errors["years"] = late
        settings = None
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
    KeptSettings("praeventionskette-vergleichen", state.kept_settings(), state.restore_settings)
    solara.Markdown("## Vergleichen\n" + INTRO)
    QuestionCard(scenarios, settings)
    with solara.Columns([1, 1, 1]):
        ScenarioChoice(names, titles)
        CopyEditor(names, titles, base, lever_errors, name_error)
        with solara.Column():
            RunPanel(scenarios, errors, settings, question_shown=True)
            if "scenarios" in errors:
                solara.Warning(errors["scenarios"])
    if state.latest() is not None:
        Results(state.latest())
    else:
        solara.Info("Noch kein Ergebnis: Szenarien wählen und „Vergleich starten“ drücken.")
