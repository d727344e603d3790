"""``marsrelay service init|add-user|revoke-token|backup`` (the :data:`service_app` sub-app) and
``marsrelay serve``: thin wrappers around :mod:`marsrelay.service`, the relay coordination
service. Registered in :mod:`marsrelay.cli.main`; errors go through its one error path.

``--db`` is a database URL (``sqlite:///FILE`` or ``postgresql+psycopg://USER@HOST:PORT/DB``);
it defaults to ``$MARSRELAY_DB`` and then to ``sqlite:///marsrelay.db``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from marsrelay.errors import InputError

if TYPE_CHECKING:
    from marsrelay.service.ops import RelayService

__all__ = ["serve_command", "service_app"]

service_app = typer.Typer(
    name="service",
    help="Set up the relay coordination service's database.",
    no_args_is_help=True,
    add_completion=False,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="MARSRELAY_DB",
        show_envvar=True,
        help="Database URL (default sqlite:///marsrelay.db).",
    ),
]


def _service(db: str | None) -> RelayService:
    """The service on ``--db`` (imported here, so other commands start without it)."""
    from marsrelay.service.config import Settings
    from marsrelay.service.db.engine import Database
    from marsrelay.service.ops import RelayService

    settings = Settings.from_env(db)
    return RelayService(Database.open(settings.db_url), settings)


@service_app.command("init")
def init_command(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    db: DbOption = None,
) -> None:
    """Create or migrate the database, load SCENARIO's agencies and assets and predict its
    overflights. Running it again with the same scenario changes nothing."""
    service = _service(db)
    try:
        summary = service.initialize(scenario)
    finally:
        service.db.dispose()
    state = "initialised" if summary["changed"] else "already initialised, unchanged"
    print(
        f"{service.db.display_url}: {state}: scenario {summary['scenario']}, "
        f"{summary['assets']} assets, {summary['overflights']} overflights"
    )


@service_app.command("add-user")
def add_user_command(
    name: Annotated[str, typer.Argument(help="User name (1-64 characters).")],
    agency: Annotated[str, typer.Option("--agency", help="The user's agency, e.g. ESA.")],
    role: Annotated[str, typer.Option("--role", help="admin, planner or viewer.")],
    db: DbOption = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Also set the web-page password, read from stdin."),
    ] = False,
    expires_days: Annotated[
        float | None,
        typer.Option("--expires-days", help="The token stops working after this many days."),
    ] = None,
) -> None:
    """Add a user and print a new API token as the last line (the only time it is shown)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    service = _service(db)
    try:
        token, agency_name = service.add_user(name, agency, role, password, expires_days)
    finally:
        service.db.dispose()
    print(
        f"API token for {name.strip()} ({role} of {agency_name}); keep it secret, it "
        "is not shown again:"
    )
    print(token)


@service_app.command("revoke-token")
def revoke_token_command(
    name: Annotated[
        str | None, typer.Argument(help="Revoke every token of this user.", show_default=False)
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Revoke the one token read from stdin.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Revoke API tokens: every token of user NAME, or the token read from stdin (never on
    the command line, where other users could see it). Running servers refuse them (401)
    within 2 s."""
    if (name is None) == (not token_stdin):
        raise InputError(
            "say whose tokens to revoke",
            field="NAME",
            allowed="a user NAME, or --token-stdin with the token on stdin (not both)",
        )
    token = sys.stdin.readline().strip() if token_stdin else None
    service = _service(db)
    try:
        count = service.revoke_tokens(user=name, token=token)
    finally:
        service.db.dispose()
    print(f"revoked {count} token(s)" + (f" of {name}" if name else ""))


@service_app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the database while the service runs (SQLite: a database
    file; PostgreSQL: a pg_dump custom-format archive)."""
    from sqlalchemy.engine import make_url

    from marsrelay.service.config import Settings
    from marsrelay.service.db.engine import normalize_url
    from marsrelay.service.ops import backup_database

    url = normalize_url(Settings.from_env(db).db_url)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        out = backup_database(url, file)
    except OSError as exc:
        raise InputError(
            f"cannot write {file}: {exc.strerror}",
            field="FILE",
            allowed="a path in a folder you can write to",
        ) from None
    print(f"backup of {shown} written to {out}")


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=64,
                     help="Server processes on the port (one core each); default 1."),
    ] = 1,
) -> None:
    """Serve the relay coordination service's API (and pages) until SIGINT or SIGTERM."""
    from marsrelay.service.config import Settings
    from marsrelay.service.server import serve

    code = serve(Settings.from_env(db), host=host, port=port, access_log=access_log,
                 workers=workers)
    raise typer.Exit(code)
