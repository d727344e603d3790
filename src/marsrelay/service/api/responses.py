"""JSON responses written straight from the service layer's dicts.

Routes declare their ``response_model`` (for the OpenAPI schema) but return
:func:`json_response`: FastAPI then skips re-validating every item through pydantic, which
was the largest single cost of the busy list routes (``/events``, ``/overflights``,
``/requests``). The service layer builds exactly the declared shapes (``ops/views.py``); the
schema tests check every route's answers against its declared model, field by field.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response

__all__ = ["json_response"]


def json_response(content: Any, status_code: int = 200) -> Response:
    """``content`` as compact UTF-8 JSON (no NaN: the contract's numbers are finite)."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status_code, media_type="application/json")
