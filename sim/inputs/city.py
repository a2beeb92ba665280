"""The city: one row per Sozialraum, with its children, need and service capacities.

A city is a table (CSV or Parquet). The shipped default is a synthetic Düsseldorf
(`sim/data/duesseldorf_synthetic.csv`, made by `experiments/make_synthetic_city.py`);
a city with its own open data replaces it by one table with the same columns.
`load_city` checks every rule a planner can break before anything else runs and
reports each as an `InputError` naming the file, the spreadsheet row and the field.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.inputs.yamlio import safe_load

from sim.inputs.errors import InputError
from sim.paths import DATA

DEFAULT_CITY_PATH = DATA / "duesseldorf_synthetic.csv"

STADTBEZIRKE: dict[int, str] = {number: f"Stadtbezirk {number}" for number in range(1, 11)}

STADTBEZIRK_STADTTEILE: dict[int, tuple[str, ...]] = {
    1: ("Altstadt", "Carlstadt", "Stadtmitte", "Pempelfort", "Derendorf", "Golzheim"),
    2: ("Flingern-Süd", "Flingern-Nord", "Düsseltal"),
    3: ("Friedrichstadt", "Unterbilk", "Hafen", "Hamm", "Volmerswerth", "Bilk", "Oberbilk", "Flehe"),
    4: ("Oberkassel", "Heerdt", "Lörick", "Niederkassel"),
    5: ("Stockum", "Lohausen", "Kaiserswerth", "Wittlaer", "Angermund", "Kalkum"),
    6: ("Lichtenbroich", "Unterrath", "Rath", "Mörsenbroich"),
    7: ("Gerresheim", "Grafenberg", "Ludenberg", "Hubbelrath", "Knittkuhl"),
    8: ("Eller", "Lierenfeld", "Vennhausen", "Unterbach"),
    9: ("Wersten", "Himmelgeist", "Holthausen", "Reisholz", "Benrath", "Urdenbach", "Itter", "Hassels"),
    10: ("Garath", "Hellerhof"),
}

SOZIALRAUM_TYPES: dict[int, str] = {
    1: "sehr geringer Handlungsbedarf",
    2: "geringer Handlungsbedarf",
    3: "mittlerer Handlungsbedarf",
    4: "hoher Handlungsbedarf",
    5: "sehr hoher Handlungsbedarf",
}

# Column name -> (youngest, oldest) age in whole years, both inclusive.
AGE_BANDS: dict[str, tuple[int, int]] = {
    "children_0_2": (0, 2),
    "children_3_5": (3, 5),
    "children_6_9": (6, 9),
    "children_10_15": (10, 15),
    "children_16_17": (16, 17),
}

TEXT_COLUMNS: tuple[str, ...] = ("sozialraum_id", "label", "stadtteil")
CODE_COLUMNS: dict[str, tuple[int, int]] = {"stadtbezirk": (1, 10), "sozialraum_typ": (1, 5)}
SHARE_COLUMNS: tuple[str, ...] = (
    "sgb2_share",
    "low_income_share",
    "other_language_share",
    "single_parent_share",
)
PLACE_COLUMNS: tuple[str, ...] = (
    "places_u3_kita",
    "places_tagespflege",
    "places_ue3_kita",
    "places_ogs",
)
FACILITY_COLUMNS: tuple[str, ...] = ("familienzentren", "pluskita_kitas")
COUNT_COLUMNS: tuple[str, ...] = (*AGE_BANDS, *PLACE_COLUMNS, *FACILITY_COLUMNS)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "sozialraum_id",
    "label",
    "stadtbezirk",
    "stadtteil",
    "sozialraum_typ",
    *AGE_BANDS,
    *SHARE_COLUMNS,
    *PLACE_COLUMNS,
    *FACILITY_COLUMNS,
)

# No Sozialraum holds a million children or places; larger numbers are typing errors.
MAX_COUNT = 1_000_000
# A city of 10,000 Sozialräume is a few MB; a larger file is not a Sozialraum table.
MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True, eq=False)
class City:
    """A validated Sozialraum table. Row i is Sozialraum i everywhere in the simulation."""

    table: pd.DataFrame
    source: str
    synthetic: bool
    title: str

    @property
    def n_sozialraeume(self) -> int:
        return len(self.table)

    @property
    def sozialraum_id(self) -> np.ndarray:
        return self.table["sozialraum_id"].to_numpy(dtype=object)

    @property
    def stadtbezirk(self) -> np.ndarray:
        return self.table["stadtbezirk"].to_numpy(dtype=np.int64, copy=True)

    @property
    def sozialraum_typ(self) -> np.ndarray:
        return self.table["sozialraum_typ"].to_numpy(dtype=np.int64, copy=True)

    @property
    def children_by_band(self) -> np.ndarray:
        """(n_sozialraeume, 5) children per age band, columns in AGE_BANDS order."""
        return self.table[list(AGE_BANDS)].to_numpy(dtype=np.int64, copy=True)

    @property
    def children(self) -> np.ndarray:
        """Children under 18 per Sozialraum."""
        return self.children_by_band.sum(axis=1)

    def share(self, column: str) -> np.ndarray:
        if column not in SHARE_COLUMNS:
            raise InputError(self.source, column, "is not a share column", allowed=list(SHARE_COLUMNS))
        return self.table[column].to_numpy(dtype=np.float64, copy=True)

    def places(self, column: str) -> np.ndarray:
        if column not in PLACE_COLUMNS:
            raise InputError(self.source, column, "is not a place column", allowed=list(PLACE_COLUMNS))
        return self.table[column].to_numpy(dtype=np.int64, copy=True)

    def summary(self) -> dict[str, object]:
        """City totals and child-weighted means, as a planner would check them."""
        t = self.table
        children = self.children
        total = int(children.sum())
        summary: dict[str, object] = {
            "title": self.title,
            "synthetic": self.synthetic,
            "n_sozialraeume": self.n_sozialraeume,
            "n_stadtbezirke": int(t["stadtbezirk"].nunique()),
            "n_stadtteile": int(t["stadtteil"].nunique()),
            "children": total,
        }
        summary.update({band: int(t[band].sum()) for band in AGE_BANDS})
        summary.update({f"{col}_weighted": float(np.dot(t[col], children) / total) for col in SHARE_COLUMNS})
        summary["sgb2_share_min"] = float(t["sgb2_share"].min())
        summary["sgb2_share_max"] = float(t["sgb2_share"].max())
        summary.update({col: int(t[col].sum()) for col in (*PLACE_COLUMNS, *FACILITY_COLUMNS)})
        under_3 = summary["children_0_2"]
        if under_3:
            summary["u3_coverage"] = (summary["places_u3_kita"] + summary["places_tagespflege"]) / under_3
        if summary["children_3_5"]:
            summary["ue3_coverage"] = summary["places_ue3_kita"] / summary["children_3_5"]
        if summary["children_6_9"]:
            summary["ogs_coverage"] = summary["places_ogs"] / summary["children_6_9"]
        summary["sozialraeume_per_typ"] = {
            typ: int(n) for typ, n in t["sozialraum_typ"].value_counts().sort_index().items()
        }
        return summary


def load_city(path: str | Path | None = None) -> City:
    """Read and validate a city table (CSV, or Parquet by suffix). Raises InputError on any problem."""
    path = DEFAULT_CITY_PATH if path is None else Path(path)
    source = str(path)
    raw = _read_table(path, source)
    table = validate_table(raw, source)
    synthetic, title = _read_meta(path)
    return City(table=table, source=source, synthetic=synthetic, title=title or path.stem)


def validate_table(raw: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Check a raw Sozialraum table and return it typed, with index 0..n-1 in file order.

    Cells may be text (as read from CSV) or numbers (Parquet, or a table built in code).
    Rows are reported as a spreadsheet counts them: header = row 1, first Sozialraum = row 2.
    """
    if not isinstance(raw, pd.DataFrame):
        raise InputError(source, "table", f"expected a table, got {type(raw).__name__}")
    try:
        return _validate(raw, source)
    except InputError:
        raise
    except Exception as exc:  # a rule we did not foresee: still report it as bad input, with the cause chained
        raise InputError(source, "table", f"could not be checked ({type(exc).__name__}: {exc})") from exc


def _validate(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    table = raw.rename(columns=lambda name: str(name).strip()).reset_index(drop=True)
    if len(table) == 0:
        raise InputError(source, "rows", "the table has no Sozialraum rows")
    _check_required_columns(table, source)

    for column in TEXT_COLUMNS:
        table[column] = _text(table[column])
    _check_ids(table, source)

    # Every numeric cell is a number first; whole-number and range rules follow, one message each.
    for column in (*CODE_COLUMNS, *COUNT_COLUMNS, *SHARE_COLUMNS):
        table[column] = _numbers(table[column], column, source)

    _check_counts(table, source)
    _check_shares(table, source)
    _check_codes(table, source)
    _check_duplicate_ids(table, source)
    _check_children(table, source)
    _convert_extra_columns(table)
    return table


# --- reading -----------------------------------------------------------------


def _read_table(path: Path, source: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(source, "file", "file not found")
    if not path.is_file():
        raise InputError(source, "file", "is not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(source, "file", f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; no Sozialraum table is")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return _read_csv(path)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(source, "rows", "the file is empty: no header and no Sozialraum rows") from None
    except Exception as exc:  # any reader failure is a bad file, reported the same way
        raise InputError(source, "file", f"cannot be read ({type(exc).__name__}: {exc})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")  # older German Excel saves "CSV" in Windows-1252
        except UnicodeDecodeError as exc:
            raise InputError(str(path), "file", f"is not a text table: neither UTF-8 nor Windows-1252 (byte {exc.start})",
                             allowed="CSV (UTF-8 or Windows-1252) or Parquet") from None
    if "\x00" in text:
        raise InputError(str(path), "file", "is not a text table (it holds NUL bytes)",
                         allowed="CSV (UTF-8 or Windows-1252) or Parquet")
    # German spreadsheet exports also use ';' between fields and ',' as decimal mark.
    header = text.split("\n", 1)[0]
    semicolons = header.count(";") > header.count(",")
    table = pd.read_csv(io.StringIO(text), sep=";" if semicolons else ",", dtype=str, keep_default_na=False)
    if semicolons:
        numeric = [c for c in table.columns if str(c).strip() not in TEXT_COLUMNS]
        table[numeric] = table[numeric].apply(lambda col: col.str.replace(",", ".", regex=False))
    return table


def _read_meta(path: Path) -> tuple[bool, str | None]:
    """A sidecar `<name>.meta.yaml` may say where the table comes from and whether it is synthetic."""
    meta_path = path.with_name(path.name.rsplit(".", 1)[0] + ".meta.yaml")
    if not meta_path.is_file():
        return False, None
    try:
        meta = safe_load(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(str(meta_path), "file", f"cannot be read ({type(exc).__name__})") from None
    if meta is None:
        return False, None
    if not isinstance(meta, dict):
        raise InputError(str(meta_path), "file", "must be a mapping of keys to values")
    synthetic = meta.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise InputError(str(meta_path), "synthetic", f"must be true or false, got {synthetic!r}")
    title = meta.get("title")
    return synthetic, None if title is None else str(title)


# --- conversion --------------------------------------------------------------


def _text(column: pd.Series) -> pd.Series:
    return column.map(lambda v: "" if _is_missing(v) else str(v).strip()).astype(object)


def _is_missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _numbers(column: pd.Series, name: str, source: str) -> pd.Series:
    """Column as float64; the first empty or non-numeric cell is an InputError."""
    if pd.api.types.is_bool_dtype(column):
        raise InputError(source, name, "must be numbers, not true/false", row=2)
    if pd.api.types.is_complex_dtype(column):
        raise InputError(source, name, "must be real numbers, not complex ones", row=2)
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype(np.float64)
    else:
        text = column.map(lambda v: "" if _is_missing(v) else str(v).strip())
        values = pd.to_numeric(text, errors="coerce").astype(np.float64)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = column.iloc[i]
        if _is_missing(cell) or str(cell).strip() == "":
            raise InputError(source, name, "empty cell, a number is required", row=_row(i))
        text = str(cell).strip()
        shown = text if len(text) <= 40 else text[:37] + "..."  # a pasted column or a 5,000-digit number
        raise InputError(source, name, f"{shown!r} is not a number", row=_row(i))
    return values


def _row(index: int) -> int:
    return index + 2


def _first(mask: np.ndarray | pd.Series) -> int | None:
    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) if hits.size else None


# --- rules ---------------------------------------------------------------------


def _check_required_columns(table: pd.DataFrame, source: str) -> None:
    twice = table.columns[table.columns.duplicated()]
    if len(twice):
        raise InputError(source, str(twice[0]), "column appears more than once in the header")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        word = "column" if len(missing) == 1 else "columns"
        raise InputError(
            source,
            ", ".join(missing),
            f"required {word} missing: {', '.join(missing)}",
            allowed=list(REQUIRED_COLUMNS),
        )


def _check_ids(table: pd.DataFrame, source: str) -> None:
    i = _first(table["sozialraum_id"] == "")
    if i is not None:
        raise InputError(source, "sozialraum_id", "empty cell, every Sozialraum needs an id", row=_row(i))


def _check_counts(table: pd.DataFrame, source: str) -> None:
    for column in COUNT_COLUMNS:
        values = table[column]
        i = _first(values < 0)
        if i is not None:
            raise InputError(source, column, f"negative count {values.iloc[i]:g}", row=_row(i), allowed=">= 0")
    for column in COUNT_COLUMNS:
        values = table[column]
        i = _first(values != np.round(values))
        if i is not None:
            raise InputError(
                source, column, f"{values.iloc[i]:g} is not a whole number", row=_row(i), allowed="whole numbers"
            )
    for column in COUNT_COLUMNS:
        values = table[column]
        i = _first(values > MAX_COUNT)
        if i is not None:
            raise InputError(
                source, column, f"{values.iloc[i]:g} is too large", row=_row(i), allowed=f"0 to {MAX_COUNT:,}"
            )
        table[column] = values.astype(np.int64)


def _check_shares(table: pd.DataFrame, source: str) -> None:
    for column in SHARE_COLUMNS:
        values = table[column]
        i = _first((values < 0) | (values > 1))
        if i is not None:
            hint = "; shares are fractions (0.175), not percent (17.5)" if 1 < values.iloc[i] <= 100 else ""
            raise InputError(
                source, column, f"share {values.iloc[i]:g} outside 0 to 1{hint}", row=_row(i), allowed="0 to 1"
            )
    total = table["sgb2_share"] + table["low_income_share"]
    i = _first(total > 1 + 1e-9)
    if i is not None:
        raise InputError(
            source,
            "sgb2_share + low_income_share",
            f"together {total.iloc[i]:g}, but a child is in at most one of these groups",
            row=_row(i),
            allowed="sum <= 1",
        )


def _check_codes(table: pd.DataFrame, source: str) -> None:
    for column, (low, high) in CODE_COLUMNS.items():
        values = table[column]
        i = _first((values != np.round(values)) | (values < low) | (values > high))
        if i is not None:
            raise InputError(
                source, column, f"{values.iloc[i]:g} is not a valid code", row=_row(i), allowed=f"{low} to {high}"
            )
        table[column] = values.astype(np.int64)


def _check_duplicate_ids(table: pd.DataFrame, source: str) -> None:
    duplicated = table["sozialraum_id"].duplicated()
    i = _first(duplicated)
    if i is not None:
        sid = table["sozialraum_id"].iloc[i]
        first = _row(int(np.flatnonzero(table["sozialraum_id"].to_numpy() == sid)[0]))
        raise InputError(
            source, "sozialraum_id", f"duplicate id {sid!r}, already used in row {first}", row=_row(i)
        )


def _check_children(table: pd.DataFrame, source: str) -> None:
    # A single Sozialraum without children (a harbour, an industrial area) is fine; a city is not.
    if int(table[list(AGE_BANDS)].to_numpy().sum()) == 0:
        raise InputError(source, ", ".join(AGE_BANDS), "the city has no children in any age band")


def _convert_extra_columns(table: pd.DataFrame) -> None:
    """Keep unknown columns; turn them into numbers where every cell is one."""
    for column in table.columns:
        if column in REQUIRED_COLUMNS or pd.api.types.is_numeric_dtype(table[column]):
            continue
        converted = pd.to_numeric(table[column], errors="coerce")
        if converted.notna().all():
            table[column] = converted
