"""Per-session state of the UI and the background comparison.

Every `solara.reactive` here belongs to one browser session (Solara keeps one value per
session), so two planners never see each other's settings or results. The limits keep one
session from taking the server down: a bounded sample, a bounded number of seeds and runs, and
at most `MAX_PARALLEL_COMPARISONS` comparisons computing at once across all sessions.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import solara
import solara.lab

from sim.analysis.compare import Cancelled, Comparison, compare
from sim.inputs.scenario import Scenario
from sim.ui import question as planner_question

# ---- limits (one user must not take the server down) -----------------------------------------
MAX_SCALE = 0.2  # share of the city simulated
MIN_SCALE = 0.01
MAX_SEEDS = 10
MAX_YEARS = 18
MAX_BURN_IN = 6
MAX_RUNS = 60  # scenarios × seeds in one comparison
MAX_PARALLEL_COMPARISONS = 1
_compute_slots = threading.BoundedSemaphore(MAX_PARALLEL_COMPARISONS)

# ---- defaults: a comparison that answers in seconds on two cores -----------------------------
DEFAULT_SCALE_PERCENT = "2"
DEFAULT_SEEDS = "2"
DEFAULT_YEARS = "3"
DEFAULT_BURN_IN = "1"
DEFAULT_SCENARIOS = ("lotsen",)
EXPLORE_DEFAULT_SCALE = 0.02
EXPLORE_DEFAULT_YEARS = 10


@dataclass(frozen=True)
class RunSettings:
    scale: float
    seeds: int
    years: int
    burn_in: int


@dataclass(frozen=True)
class ComparisonRequest:
    scenarios: tuple[Scenario, ...]
    settings: RunSettings

    @property
    def n_runs(self) -> int:
        names = {s.name for s in self.scenarios} | {"baseline"}
        return len(names) * self.settings.seeds


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    waiting: bool = False
    started: float = field(default_factory=time.perf_counter)


# ---- the settings forms: raw text per field, checked on every change -------------------------
def check_run_settings(scale_percent, seeds, years, burn_in, n_scenarios: int) -> tuple[RunSettings | None, dict[str, str]]:
    """Typed run settings -> (RunSettings, {}) or (None, {field: German message})."""
    from sim.ui.lever_fields import parse_number

    errors: dict[str, str] = {}

    def number(key, raw, lo, hi, whole=False):
        try:
            value = parse_number(raw)
        except ValueError as exc:
            errors[key] = str(exc)
            return None
        if whole and not float(value).is_integer():
            errors[key] = "Bitte eine ganze Zahl eingeben"
            return None
        if not lo <= value <= hi:
            errors[key] = f"Erlaubt: {_de(lo)} bis {_de(hi)}"
            return None
        return value

    scale = number("scale", scale_percent, MIN_SCALE * 100, MAX_SCALE * 100)
    n_seeds = number("seeds", seeds, 1, MAX_SEEDS, whole=True)
    n_years = number("years", years, 1, MAX_YEARS, whole=True)
    n_burn = number("burn_in", burn_in, 0, MAX_BURN_IN, whole=True)
    if n_seeds is not None and n_seeds * n_scenarios > MAX_RUNS:
        errors["seeds"] = f"Zu viele Läufe ({int(n_seeds)} Seeds × {n_scenarios} Szenarien > {MAX_RUNS})"
    if errors:
        return None, errors
    return RunSettings(scale / 100, int(n_seeds), int(n_years), int(n_burn)), {}


def check_timing(start_text: str, build_text: str, first_year: int, last_year: int):
    """The copy's start year and build-up -> (LeverTiming or None for "as the base", {field: German message})."""
    from sim.inputs.levers import LeverTiming
    from sim.ui.lever_fields import parse_number

    if not str(start_text).strip():
        return None, {}
    errors = {}
    try:
        start = parse_number(start_text)
        if not float(start).is_integer() or not first_year <= start <= last_year:
            errors["kopie-start"] = f"Erlaubt: ein Jahr von {first_year} bis {last_year}"
    except ValueError:
        errors["kopie-start"] = "Bitte ein Jahr eingeben, z. B. 2027"
    try:
        build = parse_number(build_text or "0")
        if not float(build).is_integer() or not 0 <= build <= 30:
            errors["kopie-aufbau"] = "Erlaubt: 0 bis 30 ganze Jahre"
    except ValueError:
        errors["kopie-aufbau"] = "Bitte eine ganze Zahl eingeben"
    if errors:
        return None, errors
    return LeverTiming(start_year=int(start), build_up_years=int(build)), {}


def _de(value: float) -> str:
    return (str(int(value)) if float(value).is_integer() else str(value)).replace(".", ",")


# ---- session state ------------------------------------------------------------------------------
# Vergleichen: the planner's question (sim.ui.question), the chosen scenarios and the edited copy.
question = solara.reactive(planner_question.DEFAULT_QUESTION)  # a key of planner_question.QUESTIONS
child_group = solara.reactive(planner_question.DEFAULT_CHILD_GROUP)  # a key of planner_question.CHILD_GROUPS
chosen = solara.reactive(list(DEFAULT_SCENARIOS))
copy_base = solara.reactive("baseline")
copy_values = solara.reactive({})  # field key -> typed value, on top of copy_base's levers
copy_name = solara.reactive("mein_szenario")
copy_title = solara.reactive("")
copy_included = solara.reactive(False)
copy_start_text = solara.reactive("")  # start year of the copy's levers; empty: as its base
copy_build_text = solara.reactive("0")  # years of build-up
save_message = solara.reactive(None)  # (ok: bool, text)
# run settings as typed
scale_text = solara.reactive(DEFAULT_SCALE_PERCENT)
seeds_text = solara.reactive(DEFAULT_SEEDS)
years_text = solara.reactive(DEFAULT_YEARS)
burn_in_text = solara.reactive(DEFAULT_BURN_IN)
# the comparison and its progress
progress = solara.reactive(Progress())
# The latest comparison and the one before it (to show what a changed lever did), set together
# in one step so that a page never shows the new result next to itself as "before".
history = solara.reactive(())  # (Comparison,) or (previous, latest)
last_request = solara.reactive(None)  # ComparisonRequest | None
# ids of the results this session has already scrolled to: a result comes into view once, when new,
# not each time the page is opened again (mutated in place: no re-render needed).
scrolled_to = solara.reactive(set())
drawn_ahead_for = solara.reactive(set())  # comparisons whose other tabs' charts are being drawn ahead


# What a reload keeps (in the browser's localStorage, see sim.ui.widgets.KeptSettings): the typed
# settings of Vergleichen, never results (they are recomputed).
KEPT = {"question": question, "child_group": child_group, "chosen": chosen, "copy_base": copy_base,
        "copy_values": copy_values, "copy_name": copy_name, "copy_title": copy_title, "copy_included": copy_included,
        "copy_start_text": copy_start_text, "copy_build_text": copy_build_text, "scale_text": scale_text,
        "seeds_text": seeds_text, "years_text": years_text, "burn_in_text": burn_in_text}


def kept_settings() -> str:
    import json

    return json.dumps({key: value.value for key, value in KEPT.items()}, sort_keys=True, ensure_ascii=False)


def restore_settings(text: str) -> None:
    """Settings saved by this browser: each one is taken only if it has the type it should have,
    so a damaged or old entry changes nothing (every field is checked again as typed)."""
    import json

    try:
        saved = json.loads(text)
    except (TypeError, ValueError):
        return
    if not isinstance(saved, dict):
        return
    for key, value in saved.items():
        target = KEPT.get(key)
        if target is None or not isinstance(value, type(target.value)) or value == target.value:
            continue
        if key == "copy_base" and not _scenario_exists(value):  # a scenario removed since: keep the default
            continue
        if key in ("question", "child_group") and not _offered(key, value):  # a question no longer offered
            continue
        target.set(value)


def _offered(key: str, value: str) -> bool:
    from sim.ui.question import CHILD_GROUPS, QUESTIONS

    return value in (QUESTIONS if key == "question" else CHILD_GROUPS)


def _scenario_exists(name: str) -> bool:
    from sim.ui import scenario_store

    return name in scenario_store.available()


def latest() -> Comparison | None:
    return history.value[-1] if history.value else None


def before_latest() -> Comparison | None:
    return history.value[-2] if len(history.value) > 1 else None

# Erkunden
explore_scenario = solara.reactive("baseline")
explore_values = solara.reactive({})
explore_scale_text = solara.reactive(str(int(EXPLORE_DEFAULT_SCALE * 100)))
explore_seed_text = solara.reactive("0")
explore_years_text = solara.reactive(str(EXPLORE_DEFAULT_YEARS))
explore_applied = solara.reactive(None)  # the model parameters of the last "Übernehmen"
explore_version = solara.reactive(0)
explore_map_measure = solara.reactive("sgb2_share")
inspector_child = solara.reactive(None)


@solara.lab.task(prefer_threaded=True)
def run_comparison(request: ComparisonRequest) -> Comparison:
    """Runs in a thread of this session; cancel() makes `cancelled` true and compare() stop."""
    progress.value = Progress(0, request.n_runs, waiting=True)

    def cancelled() -> bool:
        return not run_comparison.is_current()

    while not _compute_slots.acquire(timeout=0.25):  # wait for a free slot, but stay cancellable
        if cancelled():
            raise Cancelled()
    try:
        progress.value = Progress(0, request.n_runs)

        def on_progress(done: int, total: int) -> None:
            progress.value = Progress(done, total, started=progress.value.started)
            run_comparison.progress = 100.0 * done / total

        s = request.settings
        comparison = compare(list(request.scenarios), range(s.seeds), scale=s.scale, years=s.years,
                             burn_in=s.burn_in, workers=workers_for(request), progress=False,
                             on_progress=on_progress, cancelled=cancelled)
    finally:
        _compute_slots.release()
    if not cancelled():
        history.value = (*history.value[-1:], comparison)
    return comparison


def workers_for(request: ComparisonRequest) -> int:
    """Small comparisons run in this process (no start-up cost); larger ones on both cores."""
    s = request.settings
    work = request.n_runs * s.scale * (s.years + s.burn_in)
    return 2 if work >= 4 else 1


def start(scenarios: list[Scenario], settings: RunSettings | None) -> None:
    if settings is None:  # a field is wrong (the button is disabled then): nothing starts
        return
    request = ComparisonRequest(tuple(scenarios), settings)
    last_request.value = request
    run_comparison(request)
