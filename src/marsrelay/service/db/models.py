"""The service's tables, as SQLAlchemy 2 typed models. Times are integer UTC milliseconds since
1970 (``*_ms``), volumes integer bits (``*_bits``). The schema is created and migrated by
Alembic only (``marsrelay.service.migrations``): change a model, add a revision."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Agency",
    "Asset",
    "AuditEntry",
    "Base",
    "Event",
    "ForwardFile",
    "MetaEntry",
    "Overflight",
    "RelayRequest",
    "Token",
    "Trajectory",
    "User",
    "WebSession",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MetaEntry(Base):
    """Key-value facts about the database: the scenario it was initialised with, etc."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Asset(Base):
    """An orbiter, lander or Earth station of the scenario."""

    __tablename__ = "assets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    #: Orbiters: the current trajectory's version (1 from the scenario); 0 for the others.
    trajectory_version: Mapped[int] = mapped_column(Integer, default=0)
    agency: Mapped[Agency] = relationship(lazy="joined")


class Trajectory(Base):
    """Every trajectory an orbiter has had: version 1 is the scenario's."""

    __tablename__ = "trajectories"
    __table_args__ = (UniqueConstraint("orbiter_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    orbiter_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    version: Mapped[int] = mapped_column(Integer)
    #: ``scenario``, ``oem`` (content: the OEM text) or ``elements`` (content: JSON).
    source: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    coverage_start_ms: Mapped[int] = mapped_column(BigInteger)
    coverage_end_ms: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))


class Overflight(Base):
    """A predicted pass of an orbiter over a lander (a ``proximity`` contact with its volume).

    ``profile`` is the cumulative predicted volume along the pass (JSON ``[[offset_ms, ...],
    [bits, ...]]``), so a sub-window's share is a difference of two interpolations.
    ``superseded`` overflights belong to an older trajectory; they are kept for history."""

    __tablename__ = "overflights"
    __table_args__ = (
        Index("ix_overflights_orbiter_current", "orbiter_id", "superseded", "start_ms"),
        Index("ix_overflights_start", "superseded", "start_ms"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    orbiter_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    lander_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    max_elevation_deg: Mapped[float] = mapped_column(Float)
    predicted_bits: Mapped[int] = mapped_column(BigInteger)
    trajectory_version: Mapped[int] = mapped_column(Integer)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id hash of the web-page password (None: no password set).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    #: The newest event the user has marked read on the web pages (0: none).
    seen_event_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    agency: Mapped[Agency] = relationship(lazy="joined")


class Token(Base):
    """An API token, stored only as the SHA-256 hex digest of the token text."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WebSession(Base):
    """A logged-in browser: the session cookie is stored only as its SHA-256 hex digest, with
    the form token (CSRF synchronizer token) of the session and its expiry."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class RelayRequest(Base):
    """A lander team's request for (part of) an overflight.

    The agencies and assets are copied from the overflight so visibility filters need no join;
    ``requested_*_ms`` keep the window as asked when an acknowledgement grants a part of it;
    ``predicted_bits`` is the window's share of the prediction."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_orbiter_state", "orbiter_id", "state", "start_ms"),
        Index("ix_requests_lander_agency", "lander_agency_id"),
        Index("ix_requests_orbiter_agency", "orbiter_agency_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    overflight_id: Mapped[int] = mapped_column(ForeignKey("overflights.id"))
    orbiter_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    lander_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    orbiter_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    lander_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    requested_start_ms: Mapped[int] = mapped_column(BigInteger)
    requested_end_ms: Mapped[int] = mapped_column(BigInteger)
    return_bits: Mapped[int] = mapped_column(BigInteger)
    forward_bits: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer)
    predicted_bits: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    returned_bits: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    forward_delivered: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class ForwardFile(Base):
    """A forward product attached to a request, stored whole with its SHA-256."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """One per state change (creation included), per re-linked request and per trajectory.

    Agencies are copied in so ``/events`` filters by visibility without a join."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time_ms: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    orbiter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lander_agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    orbiter_agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """Who changed what, when, with the record before and after (JSON). Append-only."""

    __tablename__ = "audit"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
