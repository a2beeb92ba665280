"""Rules every checked input shares: no yes/no where a number belongs, no NaN or infinity, no unknown key."""

from __future__ import annotations

import typing

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def reject_true_false(value, where: str = ""):
    """No lever, parameter or catalogue field is yes/no. YAML reads `yes`, `no`, `on` and `true`
    as booleans, which pydantic would otherwise take as 1 and 0. Keys of mappings count too."""
    if isinstance(value, bool):
        raise ValueError(f"{where + ': ' if where else ''}true/false is not allowed here, a number or name is")
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            reject_true_false(key, inner)
            reject_true_false(item, inner)
    elif isinstance(value, (list, tuple)):
        for item in value:
            reject_true_false(item, where)
    return value


def allowed_values(model: type[BaseModel], error: dict):
    """What a pydantic error allows: the choices of a Literal, or for an unknown key the keys of
    the (nested) model it was found in."""
    ctx = error.get("ctx") or {}
    if ctx.get("expected"):
        return ctx["expected"]
    bounds = [f"{sign} {ctx[key]}" for key, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")) if key in ctx]
    if bounds:
        return " and ".join(bounds)
    if error.get("type") != "extra_forbidden":
        return None
    for part in error["loc"][:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
    return sorted(getattr(model, "model_fields", {})) or None


def _model_in(annotation):
    """The pydantic model inside `Model`, `Model | None`, `dict[str, Model]` or `list[Model]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(typing.get_args(annotation)):
        inner = _model_in(arg)
        if inner is not None:
            return inner
    return None


def validation_field(loc) -> str:
    """A pydantic error location as a planner reads it: without pydantic's internal names of
    validators and unions (`function-after[...]`, `literal[...]`)."""
    return ".".join(str(p) for p in loc if not ("[" in str(p) and str(p) != "[key]"))


class CheckedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_true_false(cls, value, info: ValidationInfo):
        if isinstance(value, dict) and _model_in(cls.model_fields[info.field_name].annotation) is not None:
            return value  # a nested model checks its own fields, and names them
        return reject_true_false(value)
