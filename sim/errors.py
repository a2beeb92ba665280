"""One error type for bad input, so every loader reports the same way: where, what, and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input in a file, table or parameter. Raised before anything runs."""

    def __init__(self, source: str, field: str, problem: str, *, row: object = None, allowed: object = None):
        self.source = str(source)
        self.field = field
        self.row = row
        self.problem = problem
        self.allowed = allowed
        where = self.source if row is None else f"{self.source}, row {row}"
        message = f"{where}, field '{field}': {problem}"
        if allowed is not None:
            message += f" (allowed: {allowed})"
        super().__init__(message)
