"""Progress reporting without printing: stages call a callback the caller supplies.

A :data:`ProgressCallback` is called as ``progress(description, completed, total)``: a short
text of what is being done (``"contacts: proximity"``), and how many of how many steps are done.
The command line turns it into a progress bar; library callers pass ``None`` (no reports).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback", "report"]

#: ``progress(description, completed, total)``.
ProgressCallback = Callable[[str, int, int], None]


def report(progress: ProgressCallback | None, description: str, completed: int,
           total: int) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(description, completed, total)
