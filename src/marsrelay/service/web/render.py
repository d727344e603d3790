"""Rendering: the Jinja2 environment (templates shipped in the package, autoescaped), the
filters every page uses (UTC with ``Z``, Mbit, durations) and the response headers of a page.

Pages are written for the strict Content Security Policy below: no inline script, no inline
event handlers, no ``style`` attributes, no ``javascript:`` URLs; every asset under
``/static``.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from marsrelay import __version__
from marsrelay.service.web.times import utc_short, utc_text

__all__ = ["CSP", "PAGE_HEADERS", "env", "render_html"]

#: The pages' Content Security Policy (issue 17's header; the pages never need more).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'"
)

PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def mbit(bits: int | float | None, digits: int = 1) -> str:
    """Bits as ``12.3 Mbit`` (``-`` for none)."""
    if bits is None:
        return "-"
    return f"{bits / 1e6:,.{digits}f} Mbit"


def duration(seconds: float | None) -> str:
    """``7 min 12 s``, ``45.2 s`` or ``3 h 02 min``."""
    if seconds is None:
        return "-"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def _build_env() -> Environment:
    environment = Environment(
        loader=PackageLoader("marsrelay.service.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        utc=utc_text, utc_s=utc_short, mbit=mbit, duration=duration,
        fmt1=lambda v: f"{v:.1f}", fmt0=lambda v: f"{v:,.0f}",
    )
    environment.globals["version"] = __version__
    return environment


env = _build_env()


def render_html(
    name: str, context: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """Template ``name`` with ``context`` as a page response (with :data:`PAGE_HEADERS`)."""
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
