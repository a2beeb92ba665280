"""The Hydra configuration of a run: the schema behind conf/, the generated groups, and the check.

`conf/config.yaml` is the primary config; its groups mirror the seams of the model:

    city/        the Sozialraum table (synthetic Düsseldorf by default)
    scenario/    one option per file in scenarios/, generated here: a new scenario file needs
                 no Hydra copy, and the file is read by sim.inputs.scenario as everywhere else
    scale/       share of the city simulated (full city, samples)
    parameters/  the model parameter set, placed at `params`: `fitted` (declared defaults with
                 conf/params/fitted.yaml, the default) or `declared` (defaults only)
    experiment/  ready-made sweeps (demo, sensitivity, budget search, scale series)

Types are checked by the structured schema (OmegaConf) when Hydra composes; names and ranges
by the model's own pydantic definitions in `check_run`, which every run passes before anything
is built, and which `CheckSweep` applies to every job of a sweep before the first one starts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict
from pydantic import Field, ValidationError, model_validator

from sim.engine.model import MAX_SCALE
from sim.inputs.checks import CheckedModel, allowed_values, validation_field
from sim.inputs.city import load_city
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers
from sim.inputs.params import ModelParams, load_params, params_from_dict, set_by_path
from sim.inputs.scenario import SCENARIO_DIR, Scenario, load_scenario
from sim.paths import RESULTS

SOURCE = "configuration (conf/ and command line)"


# ---- the structured schema (types) ------------------------------------------------------------
@dataclass
class CityConf:
    name: str = "synthetic_duesseldorf"
    table: Optional[str] = None  # a Sozialraum table (CSV/Parquet); None = the synthetic Düsseldorf


@dataclass
class ScenarioConf:
    name: str = "baseline"


@dataclass
class ScaleConf:
    share: float = 1.0  # share of the city's households simulated; 1.0 = the full city


@dataclass
class DesignParameter:
    name: str = "???"  # dotted path below params, e.g. takeup.elasticity.information
    low: float = 0.0
    high: float = 1.0


@dataclass
class DesignConf:
    """A sampled design (global sensitivity analysis): job `row` runs row `row` of the sample."""

    method: str = "none"  # none | morris
    trajectories: int = 4
    levels: int = 4
    seed: int = 0
    row: int = 0
    parameters: List[DesignParameter] = field(default_factory=list)


@dataclass
class ObjectiveConf:
    """What a run returns to the sweeper (Optuna): nothing, or (annual cost, gap)."""

    kind: str = "none"  # none | gap | cost_and_gap
    indicator: str = "insufficient_german_at_school_entry"


@dataclass
class RunConf:
    city: CityConf = field(default_factory=CityConf)
    scenario: ScenarioConf = field(default_factory=ScenarioConf)
    scale: ScaleConf = field(default_factory=ScaleConf)
    seed: int = 0
    years: int = 18
    burn_in_years: int = 6
    params: Dict[str, Any] = field(default_factory=dict)
    levers: Dict[str, Any] = field(default_factory=dict)  # lever changes on top of the scenario
    design: DesignConf = field(default_factory=DesignConf)
    objective: ObjectiveConf = field(default_factory=ObjectiveConf)
    budget: Dict[str, Any] = field(default_factory=dict)  # read by experiment analyses only
    out: Optional[str] = None  # write the results here instead of <job dir>/result


# ---- ranges (pydantic) ---------------------------------------------------------------------------
MAX_SEED = 2**32 - 1  # the random numbers hash the seed as a 64-bit integer; 32 bits leave room
MAX_DESIGN_ROWS = 10_000
MIN_SHARE = 0.001


class RunSettings(CheckedModel):
    seed: int = Field(ge=0, le=MAX_SEED, description="seed of every random draw (common random numbers across scenarios)")
    # Below 0.1 % of the city (about a hundred children) no indicator means anything.
    share: float = Field(ge=MIN_SHARE, le=MAX_SCALE, description="scale.share: share of the city simulated")
    years: int = Field(ge=1, le=60, description="reported years")
    burn_in_years: int = Field(ge=0, le=30, description="years simulated before the reported ones")
    objective: Literal["none", "gap", "cost_and_gap"]
    design_method: Literal["none", "morris"]
    scenario: str = Field(min_length=1, max_length=200, description="scenario.name: a file of scenarios/")
    table: Optional[str] = Field(None, min_length=1, description="city.table: a Sozialraum table (CSV/Parquet)")
    out: Optional[str] = Field(None, min_length=1, description="out: the result folder")


class DesignParameterSettings(CheckedModel):
    name: str = Field(min_length=1)
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class DesignSettings(CheckedModel):
    method: Literal["none", "morris"]
    trajectories: int = Field(ge=1, le=1000)
    levels: int = Field(ge=2, le=100)
    seed: int = Field(ge=0, le=MAX_SEED)
    row: int = Field(ge=0)
    parameters: List[DesignParameterSettings] = Field(default_factory=list, max_length=200)


# Where each run setting lives in the configuration, as a planner types it on the command line.
SETTING_KEYS = {"seed": ("seed",), "share": ("scale", "share"), "years": ("years",),
                "burn_in_years": ("burn_in_years",), "objective": ("objective", "kind"),
                "design_method": ("design", "method"), "scenario": ("scenario", "name"),
                "table": ("city", "table"), "out": ("out",)}


@dataclass(frozen=True)
class Run:
    """A checked run: everything the model needs, and the record written next to its results."""

    scenario: Scenario
    levers: Levers
    params: ModelParams
    seed: int
    scale: float
    years: int
    burn_in_years: int
    city_table: str | None
    objective: dict
    record: dict


def _merge_matching(base: dict, update: dict) -> dict:
    """Merge nested dicts; a key matches an existing one by its text (Sozialraumtyp 5 == '5')."""
    out = dict(base)
    by_text = {str(k): k for k in out}
    for key, value in update.items():
        key = by_text.get(str(key), key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_matching(out[key], value)
        else:
            out[key] = value
    return out


def _levers(scenario: Scenario, overlay: dict) -> Levers:
    if not overlay:
        return scenario.levers
    if not isinstance(overlay, dict):
        raise InputError(SOURCE, "levers", f"must be a mapping of lever to value, got {type(overlay).__name__}",
                         allowed=sorted(Levers.model_fields))
    for key in overlay:
        if key not in Levers.model_fields:
            raise InputError(SOURCE, f"levers.{key}", "unknown lever", allowed=sorted(Levers.model_fields))
    try:
        return Levers.model_validate(_merge_matching(scenario.levers.model_dump(), overlay))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(SOURCE, "levers." + validation_field(err["loc"]), err["msg"],
                         allowed=allowed_values(Levers, err)) from None


def design_sample(design: dict):
    """The full design matrix (rows × parameters) of a sampled experiment; deterministic in its seed."""
    from SALib.sample import morris as morris_sample

    names = [p["name"] for p in design["parameters"]]
    if not names:
        raise InputError(SOURCE, "design.parameters", "a sampled design needs at least one parameter")
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(p["low"]), float(p["high"])] for p in design["parameters"]]}
    sample = morris_sample.sample(problem, N=int(design["trajectories"]), num_levels=int(design["levels"]),
                                  seed=int(design["seed"]))
    return problem, sample


def design_rows(design: dict) -> int:
    return int(design["trajectories"]) * (len(design["parameters"]) + 1)


def _design(data: dict) -> dict:
    design = data.get("design") or {"method": "none"}
    if not isinstance(design, dict):
        raise InputError(SOURCE, "design", f"must be a mapping, got {type(design).__name__}")
    if design.get("method", "none") == "none":
        return design
    try:
        checked = DesignSettings.model_validate(design).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(SOURCE, "design." + validation_field(err["loc"]), err["msg"],
                         allowed=allowed_values(DesignSettings, err)) from None
    if not checked["parameters"]:
        raise InputError(SOURCE, "design.parameters", "a sampled design needs at least one parameter")
    if design_rows(checked) > MAX_DESIGN_ROWS:
        raise InputError(SOURCE, "design.trajectories", f"the design has {design_rows(checked):,} rows",
                         allowed=f"trajectories × (parameters + 1) <= {MAX_DESIGN_ROWS:,}")
    return checked


def _params(cfg: dict) -> ModelParams:
    data = cfg.get("params") or {}
    design = _design(cfg)
    if design["method"] != "none":
        _, sample = design_sample(design)
        row = int(design["row"])
        if not 0 <= row < len(sample):
            raise InputError(SOURCE, "design.row", f"row {row} outside the design of {len(sample)} rows",
                             allowed=f"0..{len(sample) - 1}")
        for p, value in zip(design["parameters"], sample[row]):
            data = set_by_path(data, p["name"], float(value))
    try:
        return params_from_dict(data, SOURCE)
    except InputError as exc:
        field_name = exc.field if exc.field.startswith("params") else f"params.{exc.field}"
        raise InputError(SOURCE, field_name, exc.problem, allowed=exc.allowed) from None


def _lookup(data: dict, keys: tuple[str, ...]):
    value = data
    for key in keys:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InputError(SOURCE, ".".join(keys), f"'{key}' sits inside a value that is not a mapping")
        value = value.get(key)
    return value


def _settings(data: dict) -> RunSettings:
    values = {name: _lookup(data, keys) for name, keys in SETTING_KEYS.items()}
    for name in ("objective", "design_method"):
        values[name] = "none" if values[name] is None else values[name]
    for name in ("seed", "share", "years", "burn_in_years", "scenario"):
        if values[name] is None:
            raise InputError(SOURCE, ".".join(SETTING_KEYS[name]), "missing: a value is required")
    try:
        return RunSettings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(SETTING_KEYS.get(str(err["loc"][0]), (str(err["loc"][0]),)))
        raise InputError(SOURCE, key, err["msg"], allowed=allowed_values(RunSettings, err)) from None


def _check_services(levers: Levers, params: ModelParams) -> None:
    """Levers and fitted base rates name services of the catalogue (a typo would silently do nothing)."""
    from sim.inputs.services import load_catalogue  # late: the catalogue reads the unit costs

    known = set(load_catalogue().ids)
    named = [("params.base_rate", params.base_rate)] + [
        (f"levers.{lever}", getattr(levers, lever)) for lever in ("places_factor", "place_shift", "access", "fee_waiver")]
    for where, mapping in named:
        for service in mapping:
            if service not in known:
                raise InputError(SOURCE, f"{where}.{service}", "unknown service", allowed=sorted(known))


def check_run(cfg: DictConfig | dict) -> Run:
    """Validate a composed configuration; raises InputError naming the key before anything runs."""
    if isinstance(cfg, DictConfig):
        cfg = cfg.copy()
        with open_dict(cfg):
            cfg.pop("hydra", None)  # a callback's config still holds Hydra's own node
        data = OmegaConf.to_container(cfg, resolve=True)
    elif isinstance(cfg, dict):
        data = dict(cfg)
    else:
        raise InputError(SOURCE, "(configuration)", f"must be a mapping, got {type(cfg).__name__}")
    settings = _settings(data)
    scenario = load_scenario(settings.scenario)
    levers = _levers(scenario, data.get("levers") or {})
    params = _params(data)
    _check_services(levers, params)
    table = settings.table
    if table is not None:
        if not Path(table).is_file():
            raise InputError(SOURCE, "city.table", f"file not found: {table}")
        load_city(table)  # a bad table stops a sweep here, before its first run
    record = {
        "scenario": scenario.name, "seed": settings.seed, "scale": settings.share, "years": settings.years,
        "burn_in_years": settings.burn_in_years,
        "city": data.get("city") or {"name": CityConf.name, "table": None},
        "levers": json.loads(levers.model_dump_json()), "params": params.model_dump(mode="json"),
        "design": data.get("design") or {"method": "none"}, "objective": data.get("objective") or {"kind": "none"},
        "budget": data.get("budget") or {},
    }
    return Run(scenario=scenario, levers=levers, params=params, seed=settings.seed, scale=settings.share,
               years=settings.years, burn_in_years=settings.burn_in_years, city_table=table,
               objective=record["objective"], record=record)


def objective_value(indicators, costs, objective: dict):
    """What a run reports to the sweeper: the poor/non-poor gap of one indicator and the annual cost."""
    if objective["kind"] == "none":
        return None
    rows = indicators[(indicators["indicator"] == objective["indicator"]) & (indicators["subgroup_type"] == "poverty")
                      & (indicators["subgroup"] == "gap")]
    if rows.empty:
        raise InputError(SOURCE, "objective.indicator", f"no gap for '{objective['indicator']}' in this run")
    gap = float(rows["value"].iloc[0])
    gap = gap if math.isfinite(gap) else 1.0  # no measurement in the run: worst case for the search
    if objective["kind"] == "gap":
        return gap
    annual_cost = float(costs.groupby("year")["cost_eur"].sum().mean())
    return [annual_cost, gap]


# ---- checking a whole sweep before it starts ---------------------------------------------------
class CheckSweep(Callback):
    """Compose and check every job of a basic sweep before the first one is launched.

    Hydra composes each job only when it launches it (often in another process), and a range
    error would otherwise show only when its job starts. Sweepers that choose jobs as they go
    (Optuna) get the composed base configuration checked; each trial is checked when it runs.
    """

    # Hydra turns an exception in a callback into a warning and goes on; SystemExit stops it.
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _stop_on_error(config, [])

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweeper = config.hydra.sweeper
        if not str(sweeper.get("_target_", "")).endswith("basic_sweeper.BasicSweeper"):
            _stop_on_error(config, [])
            return
        loader = GlobalHydra.instance().config_loader()
        arguments = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        arguments += list(config.hydra.overrides.task)
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
        for job in BasicSweeper.split_arguments(parsed, None)[0]:
            _stop_on_error(loader.load_sweep_config(master_config=config, sweep_overrides=list(job)), job)


def _stop_on_error(config: DictConfig, job: list[str]) -> None:
    try:
        check_run(config)
    except InputError as exc:
        where = f" (Lauf: {' '.join(job)})" if job else ""
        raise SystemExit(f"Fehler in der Konfiguration, nichts wurde gerechnet{where}:\n  {exc}") from None


# ---- registration ------------------------------------------------------------------------------------
def _results_dir() -> str:
    return str(RESULTS)


def register() -> None:
    """Schema, generated groups and the results resolver; idempotent (workers import this again)."""
    if not OmegaConf.has_resolver("sim_results"):
        OmegaConf.register_new_resolver("sim_results", _results_dir)
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConf)
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        cs.store(group="scenario", name=path.stem, node=ScenarioConf(name=path.stem))
    cs.store(group="parameters", name="fitted", node=load_params().model_dump(mode="json"), package="params")
    cs.store(group="parameters", name="declared", node=ModelParams().model_dump(mode="json"), package="params")


register()
