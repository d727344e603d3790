"""User-facing errors: what is wrong, where (file, field or line), and what is allowed.

Every error a user can cause is a :class:`MarsrelayError`. The command line turns one into exit
code 2 and one or two plain lines (``marsrelay --debug`` adds the traceback); any other exception
is a bug (exit 1, "please report"). Library code raises the most specific subclass:

=============================  ============================================================
class                          raised for
=============================  ============================================================
:class:`InputError`            bad input in general (options, files, values)
:class:`ScenarioError`         a scenario file (``marsrelay.scenario``)
:class:`TimeError`             a time string or a time outside what a model covers
:class:`EphemerisCoverageError`  a time or file the planetary ephemeris does not cover
:class:`TrajectoryError`       an orbiter trajectory that cannot be built or evaluated
:class:`RunFolderError`        a run folder that is incomplete, locked or not writable
=============================  ============================================================

``str(err)`` is one line: ``file: field: problem (allowed: ...)``; the parts are attributes too.
"""

from __future__ import annotations

__all__ = [
    "EphemerisCoverageError",
    "InputError",
    "MarsrelayError",
    "RunFolderError",
    "ScenarioError",
    "TimeError",
    "TrajectoryError",
]


class MarsrelayError(ValueError):
    """A user error. ``file``, ``field`` (a key path, option name or ``line N``) and
    ``allowed`` say where and what would be accepted; ``problem`` is the bare message.

    It subclasses ``ValueError`` so code that validates values can catch it like one.
    """

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
        #: Every problem when one error stands for several (a scenario file with many).
        self.errors: tuple[MarsrelayError, ...] = ()
        parts = [p for p in (file, field) if p]
        text = ": ".join([*parts, message])
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def located(self, *, file: str | None = None, field: str | None = None) -> MarsrelayError:
        """The same error (same class) with ``file``/``field`` filled where they were empty."""
        return type(self)(self.problem, file=self.file or file, field=self.field or field,
                          allowed=self.allowed)


class InputError(MarsrelayError):
    """Bad user input: an option, a file, a value."""


class ScenarioError(InputError):
    """A scenario file that cannot be used."""


class TimeError(InputError):
    """A time string that is not valid UTC ISO 8601, or a time outside a model's range."""


class EphemerisCoverageError(InputError):
    """A time outside the planetary ephemeris, or a file that is not a usable planetary SPK."""


class TrajectoryError(InputError):
    """An orbiter trajectory that cannot be built or evaluated (says what and how to fix it)."""


class RunFolderError(InputError):
    """A run folder that is incomplete, held by another run, or cannot be written."""
