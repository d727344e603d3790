"""``marsrelay service init|add-user|backup`` (the :data:`service_app` sub-app) and
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
        f"{service.db.url}: {state}: scenario {summary['scenario']}, "
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
) -> None:
    """Add a user and print a new API token as the last line (the only time it is shown)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    service = _service(db)
    try:
        token, agency_name = service.add_user(name, agency, role, password)
    finally:
        service.db.dispose()
    print(
        f"API token for {name.strip()} ({role} of {agency_name}); keep it secret, it "
        "is not shown again:"
    )
    print(token)


@service_app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the database while the service runs (SQLite: a database
    file; PostgreSQL: a pg_dump custom-format archive)."""
    from marsrelay.service.config import Settings
    from marsrelay.service.db.engine import normalize_url
    from marsrelay.service.ops import backup_database

    url = normalize_url(Settings.from_env(db).db_url)
    try:
        out = backup_database(url, file)
    except OSError as exc:
        raise InputError(
            f"cannot write {file}: {exc.strerror}",
            field="FILE",
            allowed="a path in a folder you can write to",
        ) from None
    print(f"backup of {url} written to {out}")


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
) -> None:
    """Serve the relay coordination service's API (and pages) until SIGINT or SIGTERM."""
    from marsrelay.service.config import Settings
    from marsrelay.service.server import serve

    code = serve(Settings.from_env(db), host=host, port=port, access_log=access_log)
    raise typer.Exit(code)
