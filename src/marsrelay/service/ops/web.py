"""What the web pages need beyond the REST operations: browser sessions, read marks for the
notifications, the predicted share of a window before it is requested, and each lander's
longitude (for its local mean solar time).

Sessions: the cookie holds 256 random bits; the database keeps only their SHA-256 digest, the
session's form token (CSRF synchronizer token, 256 bits) and two expiries: an absolute one
(:data:`SESSION_MAX_S` after log-in) and an idle one (:data:`SESSION_IDLE_S` after the last
page). ``last_seen_ms`` is written at most every :data:`TOUCH_EVERY_S`, so reading pages does
not turn into a write per page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from marsrelay.service.db.models import Overflight, User, WebSession
from marsrelay.service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from marsrelay.service.domain.permissions import Actor, Role
from marsrelay.service.domain.volumes import parse_profile, window_share_bits
from marsrelay.service.domain.windows import Window
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.ops.views import overflight_view
from marsrelay.service.security import hash_token, new_token, same_digest
from marsrelay.service.timefmt import TimeFormatError, format_ms, now_ms, parse_ms

__all__ = ["SESSION_IDLE_S", "SESSION_MAX_S", "WebOps", "WebSessionInfo"]

#: A session ends this long after log-in (one operations shift), s.
SESSION_MAX_S = 12 * 3600
#: ... or this long after its last page, s.
SESSION_IDLE_S = 2 * 3600
#: ``last_seen_ms`` is written at most this often, s.
TOUCH_EVERY_S = 300
#: Unread notifications counted at most (the header then says "1000+").
UNREAD_CAP = 1000


@dataclass(frozen=True)
class WebSessionInfo:
    """A live session: who, its form token and when it ends (UTC ms)."""

    actor: Actor
    csrf_token: str
    expires_ms: int
    seen_event_id: int


def _actor(user: User) -> Actor:
    return Actor(name=user.name, agency=user.agency.name, role=Role(user.role), user_id=user.id)


class WebOps(ServiceCore):
    # -- sessions ------------------------------------------------------------------------
    def start_session(self, actor: Actor) -> tuple[str, WebSessionInfo]:
        """A new session for ``actor`` (after :meth:`login`): the cookie value (shown only
        here) and the session. Expired sessions are purged on the way."""
        if actor.user_id is None:
            raise InvalidInputError("user", "only users of the database can log in")
        token = new_token()
        now = now_ms()
        expires = now + SESSION_MAX_S * 1000
        with self.uow(write=True) as uow:
            uow.session.execute(delete(WebSession).where(WebSession.expires_ms <= now))
            user = uow.session.get(User, actor.user_id)
            if user is None:
                raise NotFoundError("the user no longer exists")
            row = WebSession(
                session_hash=hash_token(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_ms=now,
                last_seen_ms=now,
                expires_ms=expires,
            )
            uow.session.add(row)
            uow.repo.add_audit(
                actor=actor.name,
                user_id=actor.user_id,
                action="login",
                entity="user",
                entity_id=actor.name,
                before=None,
                after={"session_expires_utc": format_ms(expires)},
                time_ms=now,
            )
            info = WebSessionInfo(_actor(user), row.csrf_token, expires, user.seen_event_id)
        return token, info

    def session(self, token: str | None) -> WebSessionInfo | None:
        """The live session of a cookie value (None: missing, unknown, expired, idle)."""
        if not token or len(token) > 256:
            return None
        digest = hash_token(token)
        now = now_ms()
        with self.uow() as uow:
            found = uow.session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.session_hash == digest)
            ).first()
            if found is None:
                return None
            row, user = found
            if not same_digest(row.session_hash, digest):
                return None
            expires = min(row.expires_ms, row.last_seen_ms + SESSION_IDLE_S * 1000)
            if expires <= now:
                return None
            info = WebSessionInfo(_actor(user), row.csrf_token, expires, user.seen_event_id)
            stale_touch = now - row.last_seen_ms > TOUCH_EVERY_S * 1000
            session_id = row.id
        if stale_touch:
            with self.uow(write=True) as uow:
                live = uow.session.get(WebSession, session_id)
                if live is not None:
                    live.last_seen_ms = now
        return info

    def end_session(self, token: str | None) -> None:
        """Log out: the session is deleted (the cookie is worthless afterwards)."""
        if not token or len(token) > 256:
            return
        with self.uow(write=True) as uow:
            uow.session.execute(
                delete(WebSession).where(WebSession.session_hash == hash_token(token))
            )

    @staticmethod
    def csrf_ok(info: WebSessionInfo, presented: str | None) -> bool:
        """Whether a form's token is the session's (constant-time)."""
        return bool(presented) and hmac.compare_digest(
            info.csrf_token.encode(), str(presented).encode()
        )

    def login_form_key(self) -> bytes:
        """The key that signs the log-in form's token before there is a session (kept in the
        database, made on first use, so every server process agrees)."""
        key = getattr(self, "_login_form_key", None)
        if key is not None:
            return key
        with self.uow() as uow:
            text = uow.repo.meta().get("web_form_key")
        if text is None:
            with self.uow(write=True) as uow:
                text = uow.repo.meta().get("web_form_key")
                if text is None:
                    text = secrets.token_hex(32)
                    uow.repo.set_meta("web_form_key", text)
        key = bytes.fromhex(text)
        self._login_form_key = key
        return key

    def login_form_token(self, nonce: str) -> str:
        """The log-in form's token for a browser's pre-session ``nonce`` (an HMAC)."""
        mac = hmac.new(self.login_form_key(), b"login:" + nonce.encode(), hashlib.sha256)
        return mac.hexdigest()

    # -- notifications -------------------------------------------------------------------
    def unread_count(self, actor: Actor, seen_event_id: int) -> int:
        """Events the user sees with ids after ``seen_event_id`` (at most :data:`UNREAD_CAP`)."""
        return len(self.events(actor, after=seen_event_id, limit=UNREAD_CAP))

    def mark_read(self, actor: Actor, up_to_event_id: int) -> int:
        """Mark the user's notifications read up to an event id (never backwards)."""
        if actor.user_id is None:
            raise InvalidInputError("user", "only users of the database have read marks")
        with self.uow(write=True) as uow:
            user = uow.session.get(User, actor.user_id)
            if user is None:
                raise NotFoundError("the user no longer exists")
            user.seen_event_id = max(user.seen_event_id, max(0, min(up_to_event_id, 2**31 - 1)))
            return user.seen_event_id

    # -- the request form's preview ------------------------------------------------------
    def window_share(
        self, overflight_id: int, start_utc: str | None, end_utc: str | None
    ) -> dict[str, Any]:
        """The predicted volume of ``[start_utc, end_utc)`` of an overflight (each edge
        defaults to the overflight's), exactly as ``POST /requests`` will compute it."""
        with self.uow() as uow:
            ov = uow.repo.overflight(overflight_id) if 0 < overflight_id < 2**31 else None
            if ov is None:
                raise NotFoundError(f"overflight {overflight_id} does not exist")
            window = _window_in(ov, start_utc, end_utc)
            bits = window_share_bits(
                parse_profile(ov.profile), ov.start_ms, window.start_ms, window.end_ms
            )
            return {
                "overflight": overflight_view(ov, uow.repo.catalog()),
                "start_utc": format_ms(window.start_ms),
                "end_utc": format_ms(window.end_ms),
                "duration_s": window.length_ms / 1000.0,
                "predicted_bits": bits,
            }

    # -- lander longitudes ---------------------------------------------------------------
    def lander_longitudes(self) -> dict[str, float]:
        """East longitude (deg) of every lander of the database's scenario."""
        scenario = self.scenario(self.describe())
        return {la.name: float(la.site.lon_east_deg) for la in scenario.landers}


def _window_in(ov: Overflight, start_utc: str | None, end_utc: str | None) -> Window:
    """The window given by optional UTC edges, checked to lie inside the overflight."""
    start = _edge("start_utc", start_utc, ov.start_ms)
    end = _edge("end_utc", end_utc, ov.end_ms)
    if end <= start:
        raise InvalidInputError("end_utc", "the end is not after the start")
    if start < ov.start_ms:
        raise InvalidInputError(
            "start_utc", f"before the overflight's start {format_ms(ov.start_ms)}"
        )
    if end > ov.end_ms:
        raise InvalidInputError("end_utc", f"after the overflight's end {format_ms(ov.end_ms)}")
    if ov.superseded:
        raise ConflictError(f"overflight {ov.id} belongs to an older trajectory")
    return Window(start, end)


def _edge(field: str, text: str | None, default_ms: int) -> int:
    if not text:
        return default_ms
    try:
        return parse_ms(text)
    except TimeFormatError:
        raise InvalidInputError(field, "not a UTC time such as 2030-11-01T12:00:00Z") from None
