"""The Hydra configuration of a run: the schema behind conf/, the generated groups, and the check.

`conf/config.yaml` is the primary config; its groups mirror the seams of the model:

    city/        the Sozialraum table (synthetic Düsseldorf by default)
    scenario/    one option per file in scenarios/, generated here: a new scenario file needs
                 no Hydra copy, and the file is read by sim.scenario as everywhere else
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
from typing import Any, Dict, List, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import InputError
from sim.levers import Levers
from sim.model import MAX_SCALE
from sim.params import ModelParams, load_params, params_from_dict, set_by_path
from sim.scenario import SCENARIO_DIR, Scenario, load_scenario

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"
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
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSettings(_Strict):
    seed: int = Field(ge=0, description="seed of every random draw (common random numbers across scenarios)")
    share: float = Field(gt=0, le=MAX_SCALE, description="scale.share: share of the city simulated")
    years: int = Field(ge=1, le=60, description="reported years")
    burn_in_years: int = Field(ge=0, le=30, description="years simulated before the reported ones")
    objective: str = Field(pattern="^(none|gap|cost_and_gap)$")
    design_method: str = Field(pattern="^(none|morris)$")


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
    for key in overlay:
        if key not in Levers.model_fields:
            raise InputError(SOURCE, f"levers.{key}", "unknown lever", allowed=sorted(Levers.model_fields))
    try:
        return Levers.model_validate(_merge_matching(scenario.levers.model_dump(), overlay))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(SOURCE, "levers." + ".".join(str(p) for p in err["loc"]), err["msg"]) from None


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


def _params(cfg: dict) -> ModelParams:
    data = cfg.get("params") or {}
    design = cfg["design"]
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
        raise InputError(SOURCE, f"params.{exc.field}", exc.problem) from None


def check_run(cfg: DictConfig | dict) -> Run:
    """Validate a composed configuration; raises InputError naming the key before anything runs."""
    if isinstance(cfg, DictConfig):
        cfg = cfg.copy()
        with open_dict(cfg):
            cfg.pop("hydra", None)  # a callback's config still holds Hydra's own node
        data = OmegaConf.to_container(cfg, resolve=True)
    else:
        data = dict(cfg)
    try:
        settings = RunSettings(seed=data["seed"], share=data["scale"]["share"], years=data["years"],
                               burn_in_years=data["burn_in_years"], objective=data["objective"]["kind"],
                               design_method=data["design"]["method"])
    except ValidationError as exc:
        err = exc.errors()[0]
        names = {"share": "scale.share", "objective": "objective.kind", "design_method": "design.method"}
        key = names.get(str(err["loc"][0]), str(err["loc"][0]))
        raise InputError(SOURCE, key, err["msg"]) from None
    scenario = load_scenario(data["scenario"]["name"])
    levers = _levers(scenario, data.get("levers") or {})
    params = _params(data)
    table = data["city"]["table"]
    if table is not None and not Path(table).exists():
        raise InputError(SOURCE, "city.table", f"file not found: {table}")
    record = {
        "scenario": scenario.name, "seed": settings.seed, "scale": settings.share, "years": settings.years,
        "burn_in_years": settings.burn_in_years, "city": data["city"],
        "levers": json.loads(levers.model_dump_json()), "params": params.model_dump(mode="json"),
        "design": data["design"], "objective": data["objective"], "budget": data.get("budget") or {},
    }
    return Run(scenario=scenario, levers=levers, params=params, seed=settings.seed, scale=settings.share,
               years=settings.years, burn_in_years=settings.burn_in_years, city_table=table,
               objective=data["objective"], record=record)


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
