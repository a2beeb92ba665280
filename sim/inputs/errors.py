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
        where = self.source if row is None else f"{self.source}, row {_short(row)}"
        message = f"{where}, field '{_short(field)}': {_short(problem, 2000)}"
        if allowed is not None:
            message += f" (allowed: {_short(allowed, 2000)})"
        super().__init__(message)

    def __reduce__(self):
        # Raised in a worker process, the error must reach the parent whole (the default pickling
        # passes only the message, and the parent would see a broken pool instead).
        return _rebuild, (self.source, self.field, self.problem, self.row, self.allowed)


def _rebuild(source, field, problem, row, allowed) -> InputError:
    return InputError(source, field, problem, row=row, allowed=allowed)


def _short(value: object, limit: int = 200) -> str:
    """A pasted page of text or a number of 5,000 digits in a key must not flood the message."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
