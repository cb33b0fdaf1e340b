"""Errors that mean "the input is unusable" (exit code 2), as opposed to bugs.

Every loader, parser and command raises `InputError` with a message that names the problem
(file, line, column, field). The CLI prints the message on one line and exits 2; the app shows
it as a message. Nothing else is caught, so real bugs still surface with a traceback in tests.
"""

from __future__ import annotations


class InputError(Exception):
    """The user's input cannot be used; the message says exactly why and where."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
