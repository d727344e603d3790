"""Form fields -> the JSON bodies the service layer takes, and service errors -> messages.

Volumes are typed in Mbit (10^6 bits, up to 6 decimals) and sent as whole bits, as the REST
contract has them; times are UTC ISO 8601 text, checked by the service layer itself.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData

from marsrelay.service.domain.errors import (
    InvalidInputError,
    ServiceError,
)
from marsrelay.service.schemas import MAX_BITS

__all__ = [
    "FormError",
    "bits_field",
    "int_field",
    "problem_text",
    "status_of",
    "text_field",
]

#: What the pages call the fields of the REST bodies.
FIELD_NAMES = {
    "start_utc": "Start (UTC)",
    "end_utc": "End (UTC)",
    "return_bits": "Return volume",
    "forward_bits": "Forward volume",
    "returned_bits": "Returned volume",
    "priority": "Priority",
    "note": "Note",
    "reason": "Reason",
    "version": "Version",
    "file": "File",
    "orbiter": "Orbiter",
    "body": "Form",
}


class FormError(ValueError):
    """A form field that cannot be turned into a body field (422, shown on the form)."""


def status_of(exc: ServiceError) -> int:
    return exc.http_status


def problem_text(exc: ServiceError) -> str:
    """One sentence for the page: the field's label and what is wrong."""
    if isinstance(exc, InvalidInputError):
        parts = []
        for e in exc.errors:
            loc = [str(x) for x in e.get("loc", [])[1:]] or [exc.field]
            label = FIELD_NAMES.get(loc[0], loc[0].replace("_", " ").capitalize())
            parts.append(f"{label}: {e.get('msg', exc.problem)}")
        return "; ".join(parts)
    return exc.message


def text_field(form: FormData, name: str, max_len: int = 2000) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > max_len:
        raise FormError(f"{FIELD_NAMES.get(name, name)}: at most {max_len} characters")
    return text


def int_field(form: FormData, name: str, lo: int, hi: int, default: int | None = None) -> int:
    text = text_field(form, name, 20)
    label = FIELD_NAMES.get(name, name.capitalize())
    if not text:
        if default is None:
            raise FormError(f"{label}: required")
        return default
    try:
        value = int(text)
    except ValueError:
        raise FormError(f"{label}: a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise FormError(f"{label}: a whole number from {lo} to {hi}")
    return value


def bits_field(form: FormData, name: str, body_name: str, required: bool = False) -> int | None:
    """A volume typed in Mbit -> whole bits (None when empty and not required)."""
    text = text_field(form, name, 40).replace(",", "").replace("_", "")
    label = FIELD_NAMES.get(body_name, name)
    if not text:
        if required:
            raise FormError(f"{label}: required (Mbit)")
        return None
    try:
        mbit = Decimal(text)
    except InvalidOperation:
        raise FormError(f"{label}: a number of Mbit such as 120 or 0.5") from None
    if not mbit.is_finite() or mbit < 0:
        raise FormError(f"{label}: a number of Mbit, 0 or more")
    bits = int((mbit * 1_000_000).to_integral_value())
    if bits > MAX_BITS:
        raise FormError(f"{label}: at most {MAX_BITS / 1e6:.3g} Mbit")
    return bits
