"""Safe YAML reading (no tags, no code), with libyaml's C parser where available for speed."""

from __future__ import annotations

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - CSafeLoader/SafeLoader are the safe loaders
