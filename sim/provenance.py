"""What a result directory needs to be understood later: config, seed, code revision, versions, time."""

from __future__ import annotations

import datetime as dt
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "hydra-core", "matplotlib")


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if rev.returncode != 0:
        return "unknown"
    return rev.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(config: dict) -> dict:
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "packages": package_versions(),
        "config": config,
        "data_note": "Synthetisches Düsseldorf: Sozialraum-Tabelle synthetisch, an veröffentlichte Stadtwerte angepasst. "
                     "'Arm' heißt SGB-II-Bezug.",
    }


def provenance_yaml(config: dict) -> str:
    return yaml.safe_dump(provenance(config), sort_keys=False, allow_unicode=True)
