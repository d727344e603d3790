"""Pydantic v2 models of the REST contract: request bodies (validated strictly: integers are
JSON integers, booleans JSON booleans, unknown fields refused) and response items.

Bodies are validated by the service layer *after* the record lookups and permission checks
(the spec's status order: 401, 404, 403, then 422), so a route hands the raw body over as a
:class:`Body` and the operation calls :meth:`Body.parse` at the right moment.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)

from marsrelay.service.domain.errors import InvalidInputError
from marsrelay.service.timefmt import TimeFormatError, parse_ms

__all__ = [
    "AckBody",
    "Body",
    "CancelBody",
    "ElementsBody",
    "PlanBody",
    "RejectBody",
    "RequestCreate",
    "ResultBody",
]

#: Largest volume (bits) the store holds: a signed 64-bit integer.
MAX_BITS = 2**63 - 1


def _utc(text: str) -> str:
    try:
        parse_ms(text)
    except TimeFormatError:
        raise ValueError("not a UTC ISO 8601 time such as 2030-11-01T12:00:00.000Z") from None
    return text


UtcText = Annotated[str, Field(min_length=10, max_length=40), AfterValidator(_utc)]
Bits = Annotated[StrictInt, Field(ge=0, le=MAX_BITS)]
Note = Annotated[str, Field(max_length=2000)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestCreate(_Input):
    """``POST /requests``: the window defaults to the whole overflight and must lie inside it."""

    overflight_id: StrictInt
    return_bits: Bits
    forward_bits: Bits = 0
    priority: Annotated[StrictInt, Field(ge=1, le=5)] = 3
    start_utc: UtcText | None = None
    end_utc: UtcText | None = None
    note: Note | None = None


class AckBody(_Input):
    """``acknowledge``: the current ``version``; optionally grant only a part of the window
    (``start_utc``/``end_utc`` inside the request's window, e.g. from ``/plan``)."""

    version: StrictInt
    start_utc: UtcText | None = None
    end_utc: UtcText | None = None


class RejectBody(_Input):
    version: StrictInt
    reason: Note


class CancelBody(_Input):
    version: StrictInt
    reason: Note | None = None


class ResultBody(_Input):
    version: StrictInt
    returned_bits: Bits
    forward_delivered: StrictBool


class PlanBody(_Input):
    orbiter: Annotated[str, Field(min_length=1, max_length=64)]
    start_utc: UtcText | None = None
    end_utc: UtcText | None = None


def _finite(x: float) -> float:
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("must be finite")
    return x


Angle = Annotated[float, AfterValidator(_finite)]


class ElementsBody(_Input):
    """Mean elements of an orbiter, as in a scenario's ``[orbiter.elements]`` (km, deg);
    ``epoch`` defaults to the scenario's start."""

    a_km: Annotated[float, Field(gt=0.0), AfterValidator(_finite)]
    e: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    i_deg: Annotated[float, Field(ge=0.0, le=180.0)]
    raan_deg: Angle = 0.0
    argp_deg: Angle = 0.0
    mean_anomaly_deg: Angle = 0.0
    epoch: UtcText | None = None


_MALFORMED = object()
M = TypeVar("M", bound=BaseModel)


class Body:
    """A request body not validated yet: ``Body.from_bytes(raw)``, then :meth:`peek` at a
    field (for the lookups that come before validation) and :meth:`parse` into a model."""

    def __init__(self, value: Any, problem: str | None = None) -> None:
        self.value = value
        self.problem = problem

    @classmethod
    def from_bytes(cls, raw: bytes) -> Body:
        if not raw.strip():
            return cls(_MALFORMED, "a JSON object is required")
        try:
            return cls(json.loads(raw))
        except (ValueError, RecursionError) as exc:
            return cls(_MALFORMED, f"malformed JSON: {exc}"[:200])

    def peek(self, field: str) -> Any:
        """The raw value of ``field``, or None when absent or the body is not an object."""
        return self.value.get(field) if isinstance(self.value, dict) else None

    def peek_int(self, field: str) -> int | None:
        v = self.peek(field)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    def peek_str(self, field: str) -> str | None:
        v = self.peek(field)
        return v if isinstance(v, str) else None

    def parse(self, model: type[M]) -> M:
        """The body as ``model``; :class:`InvalidInputError` naming every field that does not
        validate."""
        if self.value is _MALFORMED:
            raise InvalidInputError(
                "body",
                self.problem or "malformed JSON",
                errors=[{"loc": ["body"], "msg": self.problem, "type": "json_invalid"}],
            )
        if not isinstance(self.value, dict):
            raise InvalidInputError(
                "body",
                "a JSON object is required",
                errors=[
                    {"loc": ["body"], "msg": "a JSON object is required", "type": "model_type"}
                ],
            )
        try:
            return model.model_validate(self.value)
        except ValidationError as exc:
            raise invalid_from(exc) from None


def invalid_from(exc: ValidationError, location: str = "body") -> InvalidInputError:
    """A pydantic error -> :class:`InvalidInputError` naming the fields (the first one in the
    message)."""
    errors = [
        {"loc": [location, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False)
    ]
    first = errors[0]
    field = ".".join(first["loc"][1:]) or location
    return InvalidInputError(field, first["msg"], location=location, errors=errors)


# ---------------------------------------------------------------------------------------------
# Responses (documented in OpenAPI; the routes return these shapes)
# ---------------------------------------------------------------------------------------------

RequestStateName = Literal[
    "requested", "acknowledged", "rejected", "cancelled", "implemented", "stale"
]


class Health(BaseModel):
    status: Literal["ok"]


class Me(BaseModel):
    name: str
    agency: str
    role: Literal["admin", "planner", "viewer"]


class AssetOut(BaseModel):
    name: str
    kind: Literal["orbiter", "lander", "station"]
    agency: str
    trajectory_version: int | None = None


class OverflightOut(BaseModel):
    id: int
    orbiter: str
    lander: str
    start_utc: str
    end_utc: str
    duration_s: float
    max_elevation_deg: float
    predicted_bits: int
    trajectory_version: int
    superseded: bool


class RequestOut(BaseModel):
    id: int
    version: int
    state: RequestStateName
    lander: str
    orbiter: str
    lander_agency: str
    orbiter_agency: str
    overflight_id: int
    start_utc: str
    end_utc: str
    requested_start_utc: str
    requested_end_utc: str
    return_bits: int
    forward_bits: int
    priority: int
    predicted_bits: int
    returned_bits: int
    forward_delivered: bool
    note: str | None
    reason: str | None
    created_by: str
    created_utc: str
    updated_utc: str


class ConflictOut(BaseModel):
    orbiter: str
    request_ids: list[int]
    overlap_start_utc: str
    overlap_end_utc: str


class BusyOut(BaseModel):
    orbiter: str
    start_utc: str
    end_utc: str


class PlanItem(BaseModel):
    request_id: int
    lander: str
    state: RequestStateName
    priority: int
    acknowledge: bool
    start_utc: str | None
    end_utc: str | None
    requested_start_utc: str
    requested_end_utc: str
    split: bool
    return_bits: int
    predicted_bits: int
    planned_bits: int


class PlanOut(BaseModel):
    orbiter: str
    start_utc: str | None
    end_utc: str | None
    status: str
    weighted_bits: int
    planned_bits: int
    elapsed_ms: float
    items: list[PlanItem]


class AccountingRow(BaseModel):
    provider_agency: str
    user_agency: str
    passes: int
    relay_s: float
    predicted_bits: int
    returned_bits: int


class EventOut(BaseModel):
    id: int
    time_utc: str
    kind: Literal[
        "created", "acknowledged", "rejected", "cancelled", "implemented", "stale", "trajectory"
    ]
    request_id: int | None
    state: RequestStateName | None
    orbiter: str | None
    version: int | None
    detail: dict[str, Any] | None


class FileOut(BaseModel):
    id: int
    request_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_by: str
    created_utc: str


class TrajectoryOut(BaseModel):
    orbiter: str
    trajectory_version: int
    source: Literal["oem", "elements"]
    coverage_start_utc: str
    coverage_end_utc: str
    overflights: int
    superseded: int
    relinked: list[int]
    stale: list[int]
    elapsed_ms: float


class AuditOut(BaseModel):
    id: int
    time_utc: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
