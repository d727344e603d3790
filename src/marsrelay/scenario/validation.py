"""Turn pydantic validation errors into one-line :class:`~marsrelay.errors.ScenarioError`s
naming the file, the key's path, what is wrong and what is allowed."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from marsrelay.errors import (
    ScenarioError,
)
from marsrelay.scenario.file_schema import ScenarioFile


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _schema_at(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the key at ``loc`` (or None) and that key's field. Integer parts
    index arrays of tables; a part under a table of named entries (``[links.spacecraft.TGO]``)
    is an entry's name, not a key."""
    model: type[BaseModel] | None = ScenarioFile
    info: FieldInfo | None = None
    named_entries = False
    for part in loc:
        if isinstance(part, int):
            continue
        if named_entries:
            named_entries = False
            continue
        if model is None or part not in model.model_fields:
            return None, None
        info = model.model_fields[part]
        named_entries = _is_mapping(info.annotation)
        model = _inner_model(info.annotation)
    return model, info


def _is_mapping(annotation: Any) -> bool:
    """Whether ``annotation`` is ``dict[str, ...]`` (possibly inside ``X | None``)."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    return any(_is_mapping(a) for a in typing.get_args(annotation)
               if typing.get_origin(a) is not None)


def _allowed_text(info: FieldInfo | None, model: type[BaseModel] | None) -> str | None:
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict) and extra.get("allowed"):
        return str(extra["allowed"])
    if model is not None:
        return "a table with keys " + ", ".join(model.model_fields) if model.model_fields else (
            "an empty table (no keys defined yet)"
        )
    return None


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_error(exc: ValidationError, file: str) -> ScenarioError:
    """Every problem pydantic found in a scenario file, as one :class:`ScenarioError` (its
    ``errors`` hold each problem; see :func:`combined`)."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the real one "missing": report the unknown key, the cause.
    misspelt_parents = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "extra_forbidden"}
    found = [_one(e, file) for e in errors
             if not (e["type"] == "missing" and tuple(e["loc"][:-1]) in misspelt_parents)]
    return combined(found, file)


def _one(err: Any, file: str) -> ScenarioError:
    loc = tuple(err["loc"])
    where = _loc_text(loc)
    if err["type"] == "extra_forbidden":
        parent, _ = _schema_at(loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        key = str(loc[-1])
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.0)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        allowed = ("keys " + ", ".join(known)) if known else "no keys in this table"
        return ScenarioError(f"unknown key {key!r}{hint}", file=file, field=where, allowed=allowed)
    model, info = _schema_at(loc)
    allowed = _allowed_text(info, model)
    if err["type"] == "missing":
        return ScenarioError("required key is missing", file=file, field=where, allowed=allowed)
    msg = str(err["msg"])
    msg = msg[:1].lower() + msg[1:]
    return ScenarioError(f"got {_shown(err['input'])}: {msg}", file=file, field=where,
                         allowed=allowed)


def combined(errors: list[ScenarioError], file: str) -> ScenarioError:
    """One error for several: the first's message with a count, every one in ``errors``."""
    if len(errors) == 1:
        return errors[0]
    first = errors[0]
    out = ScenarioError(f"{first.problem} (and {len(errors) - 1} more problems in the file)",
                        file=file, field=first.field, allowed=first.allowed)
    out.errors = tuple(errors)
    return out
