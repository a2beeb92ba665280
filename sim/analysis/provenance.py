"""What a result directory needs to be understood later: config, seed, code revision, versions, time.

`provenance.yaml` in every result folder holds: when it was made (UTC), the git revision (marked
`+uncommitted` when the working tree differs from it), Python and package versions, the seeds,
the full configuration (with the model parameters filled in when the caller did not pass them:
the declared defaults plus `conf/params/fitted.yaml`, which is what a run without explicit
parameters uses) and a SHA-256 of every input file, since data edits do not show in the revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

from sim.paths import DATA, FITTED_PARAMS, REPO

PACKAGES = ("praeventionskette-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml",
            "hydra-core", "omegaconf", "matplotlib")
INPUT_FILES = {
    "city": DATA / "duesseldorf_synthetic.csv",
    "catalogue": DATA / "services.yaml",
    "unit_costs": DATA / "unit_costs.csv",
    "fitted_params": FITTED_PARAMS,
}


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


def seeds(config: dict) -> list[int]:
    """The seeds of a run (`seed`) or of a comparison (`seeds`, a list or, from sim.report, a count n = seeds 0..n-1)."""
    if isinstance(config.get("seed"), int):
        return [config["seed"]]
    value = config.get("seeds")
    if isinstance(value, int) and not isinstance(value, bool):
        return list(range(value))
    if isinstance(value, (list, tuple, range)):
        return [int(s) for s in value]
    return []


def input_files(config: dict) -> dict[str, dict[str, str]]:
    """Path and SHA-256 of each input file (a city table named in the config replaces the default)."""
    files = dict(INPUT_FILES)
    city = config.get("city")
    table = city.get("table") if isinstance(city, dict) else None
    if table:
        files["city"] = Path(table)
    out = {}
    for name, path in files.items():
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        out[name] = {"path": str(path), "sha256": digest}
    return out


def resolved(config: dict, fill_params: bool = True) -> dict:
    """The configuration with the model parameters filled in where the caller left them out."""
    out = dict(config)
    if fill_params and "params" not in out:
        from sim.inputs.params import load_params  # late: provenance must not pull the model into every import

        out["params"] = load_params().model_dump(mode="json")
    return out


def provenance(config: dict, fill_params: bool = True) -> dict:
    """Everything a result folder needs to be understood later. `fill_params=False` for outputs
    made of runs that each carry their own parameters (sim.collect), where defaults would mislead."""
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "seeds": seeds(config),
        "inputs": input_files(config),
        "config": resolved(config, fill_params),
        "data_note": "Synthetisches Düsseldorf: Sozialraum-Tabelle synthetisch, an veröffentlichte Stadtwerte angepasst. "
                     "'Arm' heißt SGB-II-Bezug.",
    }


def provenance_yaml(config: dict, fill_params: bool = True) -> str:
    return yaml.safe_dump(provenance(config, fill_params), sort_keys=False, allow_unicode=True)
