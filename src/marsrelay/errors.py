"""User-facing input errors: what is wrong, where (file and field), and how to fix it.

Library code raises :class:`InputError` (or a subclass) for bad input; the CLI prints its one-line
message and exits with code 2 (``--debug`` shows the traceback instead).
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input. ``str(err)`` is one line: ``file: field: problem (allowed: ...)``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        allowed: str | None = None,
    ) -> None:
        self.file = file
        self.field = field
        self.problem = message
        self.allowed = allowed
        parts = [p for p in (file, field) if p]
        text = ": ".join([*parts, message])
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)
