"""A growable structure of arrays: one numpy array per attribute, one row per person or household."""

from __future__ import annotations

import numpy as np


def _column(capacity: int, inner: tuple[int, ...], fill, dtype) -> np.ndarray:
    # Column-major, so that one service's column (children.use[:, s]) is contiguous: the engine
    # works service by service, and strided columns made every per-service operation slow.
    return np.full((capacity, *inner), fill, dtype=dtype, order="F")


class ArrayTable:
    """Columns share a row index; rows are appended in blocks and dead rows dropped by `compact`.

    Row order only ever changes through demographic events, never through a scenario's levers,
    so a row is a stable "slot" for common random numbers across scenarios.
    """

    def __init__(self, schema: dict[str, tuple[np.dtype, tuple[int, ...], object]], capacity: int):
        self._schema = schema
        self.n = 0
        self.cols: dict[str, np.ndarray] = {}
        for name, (dtype, inner, fill) in schema.items():
            self.cols[name] = _column(capacity, inner, fill, dtype)
        self._views()

    def _views(self) -> None:
        """Each column's first n rows as a plain attribute, renewed whenever n or a column
        changes: the engine reads columns some hundred thousand times a run, and a plain
        attribute is much cheaper to read than one made by __getattr__."""
        for name, arr in self.cols.items():
            self.__dict__[name] = arr[: self.n]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self.cols}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._views()  # (a copy's views must look into the copy's columns)

    @property
    def capacity(self) -> int:
        return next(iter(self.cols.values())).shape[0]

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        # `table.alive &= mask` rebinds the attribute: write it into the column instead.
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            cols[name][: self.n] = value
        else:
            super().__setattr__(name, value)

    def append(self, count: int, **values) -> np.ndarray:
        """Add `count` rows with the given column values; returns their row indices."""
        if self.n + count > self.capacity:
            self._grow(max(self.n + count, int(self.capacity * 1.5) + 16))
        block = slice(self.n, self.n + count)
        for name, (_, _, fill) in self._schema.items():
            self.cols[name][block] = values[name] if name in values else fill
        self.n += count
        self._views()
        return np.arange(block.start, block.stop)

    def _grow(self, capacity: int) -> None:
        for name, arr in self.cols.items():
            new = _column(capacity, arr.shape[1:], self._schema[name][2], arr.dtype)
            new[: self.n] = arr[: self.n]
            self.cols[name] = new
            self.__dict__[name] = new[: self.n]  # (so that the old column can go at once)

    def compact(self, keep: np.ndarray) -> np.ndarray:
        """Drop rows where keep is False. Returns old-row -> new-row (-1 for dropped rows)."""
        mapping = np.full(self.n, -1, dtype=np.int64)
        kept = np.flatnonzero(keep)
        mapping[kept] = np.arange(kept.size)
        for name, arr in self.cols.items():
            for column in arr.reshape(arr.shape[0], -1, order="F").T:  # contiguous columns, one by one
                column[: kept.size] = column[kept]
            arr[kept.size : self.n] = self._schema[name][2]
        self.n = kept.size
        self._views()
        return mapping
