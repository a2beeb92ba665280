"""Model parameters: declared once, with defaults, ranges and whether each is an assumption.

Fitted values (from `experiments/fit_parameters.py`) live in `conf/params/fitted.yaml` and are
applied on top of these defaults by `load_params`. Every default below that is not a published
figure is an assumption of this model and is marked as such in its description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from sim.inputs.yamlio import read_yaml
from sim.paths import FITTED_PARAMS
from pydantic import ConfigDict, Field, ValidationError, field_validator

from sim.inputs.checks import CheckedModel, allowed_values, validation_field
from sim.inputs.errors import InputError

FITTED_PATH = FITTED_PARAMS

BARRIERS = (
    "information",
    "application_effort",
    "stigma_trust",
    "language",
    "distance",
    "cost",
    "capacity",
)
# Household traits that make a barrier bite harder (each a 0/1 array in the population).
TRAITS = ("sgb2", "low_income", "single_parent", "low_education", "other_language", "not_employed")
# The child's latent state: four development domains, social participation and material provision.
# Each is a standard-normal score (higher is better) that reverts to a norm set by the family
# (sim.engine.mechanisms.development); the indicators read them against thresholds.
DEVELOPMENT_DOMAINS = ("german", "motor", "weight", "school", "social", "material")
RISK_TRAITS = TRAITS + ("high_education",)
POVERTY_STATUSES = ("sgb2", "low_income", "not_poor")
EXAMINED_DOMAINS = ("german", "motor", "weight")
AWO_ISS_DIMENSIONS = ("material", "social", "health", "cultural")

# Ranges of the values inside the parameter tables. Elasticities and susceptibilities are never
# negative: a barrier that raised take-up would break "lowering a barrier never lowers take-up".
Share = Annotated[float, Field(ge=0, le=1)]
Weight = Annotated[float, Field(ge=0, le=20)]
Drift = Annotated[float, Field(ge=-5, le=5)]
Threshold = Annotated[float, Field(ge=-10, le=10)]


class _Strict(CheckedModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Demography(_Strict):
    births_per_year: float = Field(6000.0, ge=0, le=50000, description="city births a year; published 5,500-6,900 (5,507 in 2023)")
    first_born_share: float = Field(0.45, ge=0, le=1, description="share of births that are a first child: assumption")
    move_out_per_year: float = Field(0.05, ge=0, le=0.5, description="share of households with children leaving the city a year: assumption")
    move_in_ratio: float = Field(1.0, ge=0, le=3, description="factor on the children moving in; 1.0 keeps the age structure of the city table (demography.in_mover_ages): assumption")
    move_within_per_year: float = Field(0.06, ge=0, le=0.5, description="share of households moving to another Sozialraum a year: assumption")
    sgb2_exit_per_year: float = Field(0.15, ge=0.001, le=0.99, description="yearly hazard of leaving SGB II for a couple household without work; fitted to the persistence of poverty")
    sgb2_exit_factor: dict[str, Annotated[float, Field(ge=0.05, le=10)]] = Field(
        default={"single_parent": 0.6, "employed": 1.6},
        description="factor on the SGB II exit hazard: single parents 0.6 from Lietzmann, IAB-Kurzbericht 12/2009 "
                    "(after 2.5 years half of single parents, over two thirds of other households had left: hazards 0.28 vs 0.44 a year); "
                    "working households 1.6: assumption (IAB-Kurzbericht 4/2017: many working recipients stay as top-up recipients)",
    )
    low_income_exit_per_year: float = Field(0.25, ge=0.001, le=0.99, description="yearly hazard of leaving low income: assumption")
    employed_share: dict[str, Share] = Field(
        default={"sgb2": 0.25, "low_income": 0.70, "not_poor": 0.85},
        description="share of households in which all parents work, by poverty status: assumption",
    )

    @field_validator("employed_share")
    @classmethod
    def _employed_share(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, POVERTY_STATUSES, "poverty status")
        return value

    @field_validator("sgb2_exit_factor")
    @classmethod
    def _exit_factor(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, ("single_parent", "employed"), "household situation")
        return value
    trait_correlation: float = Field(0.45, ge=0, le=0.95, description="latent correlation of poverty with single parenthood, language and low education within a Sozialraum: assumption")
    propensity_correlation: float = Field(0.35, ge=0, le=0.95, description="correlation of a family's propensities across services: assumption")


class Development(_Strict):
    # Each domain reverts, month by month, to a norm that the family's situation sets; services
    # used move it (effects in services.yaml, SD per year of use) and the pull back to the norm
    # lets their effect saturate and fade after use. Random change comes once a year and is
    # scaled so that a child's spread around its norm stays one SD at every age: the thresholds
    # below keep their meaning from birth to 18.
    risk: dict[str, dict[str, Drift]] = Field(
        default={
            "german": {"other_language": -1.2, "sgb2": -0.4, "low_education": -0.2, "high_education": 0.1},
            "motor": {"sgb2": -0.25, "low_education": -0.1},
            "weight": {"sgb2": -0.3, "low_education": -0.15},
            "school": {"sgb2": -0.3, "low_education": -0.4, "high_education": 0.5, "other_language": -0.1},
            "social": {"sgb2": -0.5, "single_parent": -0.15, "low_education": -0.1},
            "material": {"sgb2": -1.3, "low_income": -0.9, "single_parent": -0.2, "not_employed": -0.2},
        },
        description="shift of the norm each domain reverts to, by household trait (SD); fitted where a target exists, otherwise assumption",
    )
    persistence_per_year: dict[str, Annotated[float, Field(ge=0, le=0.995)]] = Field(
        default={"german": 0.85, "motor": 0.85, "weight": 0.9, "school": 0.85, "social": 0.8, "material": 0.5},
        description="yearly autocorrelation of a child's distance from its norm: how long a head start or a "
                    "setback lasts; assumption (no target identifies it; the sensitivity analysis varies it). "
                    "Material provision follows income fast, hence its low value",
    )
    effect_scale: dict[str, Annotated[float, Field(ge=0, le=5)]] = Field(
        default={d: 1.0 for d in DEVELOPMENT_DOMAINS},
        description="factor on the effects of every service on a domain (services.yaml): 1 = as assumed there; "
                    "the sensitivity analysis varies it",
    )
    neighbourhood_school_per_type: float = Field(-0.1, le=0, ge=-1, description="shift of the school-readiness norm per Sozialraumtyp step above 1 (SD): assumption")
    german_effect_multiplier_other_language: float = Field(2.0, ge=0, le=10, description="Kita-type effects on German are larger where German is not spoken at home: assumption")
    german_to_school: float = Field(0.35, ge=0, le=2, description="lasting shift of school readiness per SD of German below 0 at school entry: assumption")
    exam_threshold: dict[str, Threshold] = Field(
        default={"german": -1.0, "motor": -1.2, "weight": -1.9},
        description="latent value below which the school entry examination finds a problem; fitted",
    )
    deprivation_threshold: dict[str, Threshold] = Field(
        default={"material": -1.2, "social": -1.2, "health": -1.2, "cultural": -1.2},
        description="latent value below which an AWO-ISS dimension counts as a problem (health: motor or weight; "
                    "cultural: German before school, school readiness in school); fitted to the AWO-ISS shares",
    )

    @field_validator("exam_threshold")
    @classmethod
    def _exam_threshold(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, EXAMINED_DOMAINS, "examined domain")
        return value

    @field_validator("deprivation_threshold")
    @classmethod
    def _deprivation_threshold(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, AWO_ISS_DIMENSIONS, "AWO-ISS dimension")
        return value

    @field_validator("persistence_per_year", "effect_scale")
    @classmethod
    def _per_domain(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, DEVELOPMENT_DOMAINS, "development domain")
        return value

    @field_validator("risk")
    @classmethod
    def _risk(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        _check_keys(value, DEVELOPMENT_DOMAINS, "development domain")
        for traits in value.values():
            _check_keys(traits, RISK_TRAITS, "household trait")
        return value

    gymnasium_threshold: float = Field(0.3, description="school readiness above which a child goes to Gymnasium; fitted")
    neet_threshold: float = Field(-1.6, description="school readiness at 18 below which a young person is NEET; fitted to the NEET rate")
    need_threshold: float = Field(-1.0, description="school readiness below which a pupil is eligible for tutoring (requires_need): assumption")


class TakeUp(_Strict):
    elasticity: dict[str, Weight] = Field(
        default={b: 1.0 for b in BARRIERS},
        description="how strongly one unit of barrier (intensity × susceptibility) lowers the take-up logit",
    )
    susceptibility: dict[str, dict[str, Weight]] = Field(
        default={
            "information": {"base": 0.3, "sgb2": 0.7, "low_income": 0.4, "low_education": 0.4, "other_language": 0.4},
            "application_effort": {"base": 0.3, "sgb2": 0.5, "low_income": 0.3, "low_education": 0.5, "other_language": 0.3, "single_parent": 0.2},
            "stigma_trust": {"base": 0.2, "sgb2": 0.8, "low_income": 0.4, "other_language": 0.3},
            "language": {"base": 0.0, "other_language": 1.0},
            "distance": {"base": 0.5, "sgb2": 0.4, "single_parent": 0.3},
            "cost": {"base": 0.3, "sgb2": 1.0, "low_income": 0.8, "low_education": 0.2},
            "capacity": {"base": 0.2, "not_employed": 1.0},
        },
        description="household susceptibility to each barrier, by trait; assumption, partly fitted via elasticities",
    )
    handover_strength: float = Field(0.6, ge=0, le=1, description="share of the information and trust barrier that a warm handover removes: assumption")
    outreach_strength: float = Field(0.6, ge=0, le=1, description="share of the information and trust barrier that full outreach coverage removes: assumption")
    work_demand: float = Field(
        1.0, ge=0, le=6,
        description="logit by which families in which not all parents work want less of a service whose demand "
                    "follows parents' work (demand_follows: parents_work, the U3 places): a demand, not a barrier, so no "
                    "lever lowers it. KiBS 2013-2020 (Sozialbericht 2024, bpb, ch. 2.3.2): U3 children of working "
                    "mothers use care far more (59 % in 2013, 65 % in 2020), those of mothers without work very "
                    "little; stated demand of low-income families is clearly lower. Fitted (T07, D11, T06, D06, D09)",
    )
    need_targeting_risk: dict[str, Weight] = Field(
        default={"sgb2": 1.0, "single_parent": 0.5, "low_education": 0.5},
        description="need score used by need-targeted outreach and need-based priority: assumption",
    )

    @field_validator("elasticity")
    @classmethod
    def _elasticity(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, BARRIERS, "barrier")
        return value

    @field_validator("need_targeting_risk")
    @classmethod
    def _need_targeting_risk(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, TRAITS, "household trait")
        return value

    @field_validator("susceptibility")
    @classmethod
    def _susceptibility(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        _check_keys(value, BARRIERS, "barrier")
        for traits in value.values():
            _check_keys(traits, ("base",) + TRAITS, "household trait")
        return value


def _check_keys(value: dict, allowed, what: str) -> None:
    for key in value:
        if key not in allowed:
            raise ValueError(f"unknown {what} '{key}'; allowed: {', '.join(allowed)}")


class ModelParams(_Strict):
    demography: Demography = Demography()
    development: Development = Development()
    takeup: TakeUp = TakeUp()
    base_rate: dict[str, Share] = Field(default_factory=dict, description="fitted take-up without barriers per service (overrides the catalogue)")


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def params_from_dict(data: dict, source: str = "parameters") -> ModelParams:
    """Validate a (partial) parameter dict over the defaults; errors name the field."""
    if data is not None and not isinstance(data, dict):
        raise InputError(source, "params", f"must be a mapping of parameter to value, got {type(data).__name__}",
                         allowed=sorted(ModelParams.model_fields))
    try:
        return ModelParams.model_validate(_merge(ModelParams().model_dump(), data or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(source, validation_field(err["loc"]), err["msg"],
                         allowed=allowed_values(ModelParams, err)) from None


def load_params(fitted: Path | None = FITTED_PATH, overrides: dict | None = None) -> ModelParams:
    """Defaults, then the fitted values, then explicit overrides."""
    data: dict = {}
    if fitted is not None and Path(fitted).exists():
        loaded = read_yaml(fitted) or {}
        if not isinstance(loaded, dict):
            raise InputError(str(fitted), "(file)", "must be a mapping with the key 'params'")
        data = loaded.get("params") or {}
    if overrides:
        data = _merge(data, overrides)
    return params_from_dict(data, str(fitted) if fitted else "parameters")


def set_by_path(data: dict, dotted: str, value) -> dict:
    """Return a copy of a nested dict with one dotted key set (for fitting and sweeps)."""
    head, _, rest = dotted.partition(".")
    out = dict(data)
    out[head] = set_by_path(out.get(head, {}), rest, value) if rest else value
    return out


PriorityRule = Literal["employment_first", "need_based"]
