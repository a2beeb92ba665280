"""Writing results safely: a file appears complete or not at all (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    return _atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def write_parquet(table: pd.DataFrame, path: Path) -> Path:
    return _atomic(path, lambda tmp: table.to_parquet(tmp, index=False))
