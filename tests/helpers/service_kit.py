"""Shared pieces of the service tests: a small scenario (2 days, two orbiters, two landers of
two agencies close together so they share passes), one predicted database template per backend
(SQLite: a file copied per test; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``), users of every
role, and a PostgreSQL server the tests start themselves in a temporary folder.

PostgreSQL: Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``). Without it the
PostgreSQL cases skip with the reason; with ``MARSRELAY_CI=1`` they fail instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marsrelay.service.api import create_app
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.ops import RelayService

#: Two orbiters (TGO of ESA, MRO of NASA), two landers 0.7 deg apart (ESA's Rosalind Franklin
#: at Oxia Planum and a NASA lander beside it, so passes are shared), one NASA station.
SERVICE_TOML = """\
[scenario]
name = "service-test"
start = "2030-11-01T00:00:00Z"
end = "2030-11-03T00:00:00Z"

[[orbiter]]
name = "TGO"
agency = "ESA"
max_range_km = 5000.0
[orbiter.elements]
a_km = 3796.19
i_deg = 74.0
raan_deg = 30.0

[[orbiter]]
name = "MRO"
agency = "NASA"
max_range_km = 5000.0
[orbiter.elements]
a_km = 3683.69
e = 0.008823
i_deg = 92.6
raan_deg = 320.5
argp_deg = 270.0
mean_anomaly_deg = 90.0

[[lander]]
name = "Rosalind Franklin"
agency = "ESA"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
direct_to_earth = false

[[lander]]
name = "Sample Lander"
agency = "NASA"
lat_deg = 18.0
lon_east_deg = 336.0
height_km = -3.0
direct_to_earth = false

[[station]]
name = "DSS-43"
agency = "NASA"
lat_deg = -35.4040
lon_east_deg = 148.9801
height_m = 689.0
dish_m = 70.0
"""

#: name -> (agency, role) of the users every test database has.
USERS: dict[str, tuple[str, str]] = {
    "esa_planner": ("ESA", "planner"),
    "esa_viewer": ("ESA", "viewer"),
    "nasa_planner": ("NASA", "planner"),
    "nasa_viewer": ("NASA", "viewer"),
    "asi_planner": ("ASI", "planner"),
    "admin": ("ESA", "admin"),
}

IN_CI = os.environ.get("MARSRELAY_CI") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (``MARSRELAY_CI=1``) when a system program is missing."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (MARSRELAY_CI=1: required)")
        pytest.skip(reason)


@dataclass
class Template:
    url: str
    scenario_path: Path
    tokens: dict[str, str]


def build_template(url: str, scenario_path: Path) -> Template:
    db = Database.open(url)
    try:
        service = RelayService(db)
        service.initialize(str(scenario_path))
        tokens = {name: service.add_user(name, agency, role)[0]
                  for name, (agency, role) in USERS.items()}
    finally:
        db.dispose()
    return Template(url, scenario_path, tokens)


# -------------------------------------------------------------------------------------------
# PostgreSQL, started by the tests
# -------------------------------------------------------------------------------------------


@dataclass
class PgServer:
    port: int
    datadir: Path
    bindir: Path
    prefix: list[str]
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}",
                             autocommit=True) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                        "-m", "fast", "-w", "stop"], capture_output=True, check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres() -> PgServer:
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    need(bool(initdbs), "PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(initdbs[0]).parent
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="marsrelay-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        need(shutil.which("runuser") is not None, "runuser is missing (util-linux)")
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            need(False, "no 'postgres' system user to run PostgreSQL as")
            raise
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    datadir = root / "data"
    done = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    port = _free_port()
    opts = (f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=on "
            "-c max_connections=200 -c shared_buffers=32MB")
    done = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts,
                           "-l", str(root / "server.log"), "-w", "-t", "60", "start"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + (root / "server.log").read_text()
    return PgServer(port, datadir, bindir, prefix)


# -------------------------------------------------------------------------------------------
# A test environment: service + client on a fresh copy of the template
# -------------------------------------------------------------------------------------------


@dataclass
class Env:
    backend: str
    url: str
    service: RelayService
    client: TestClient
    tokens: dict[str, str]

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, **kw: Any):
        return self.client.get("/api/v1" + path, headers=self.h(user), **kw)

    def post(self, path: str, user: str, body: Any = None, *,
             headers: dict[str, str] | None = None, **kw: Any):
        if body is not None:
            kw["json"] = body
        return self.client.post("/api/v1" + path, headers={**self.h(user), **(headers or {})},
                                **kw)

    def overflights(self, **params: str) -> list[dict]:
        r = self.get("/overflights", "admin", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def shared_overflights(self, orbiter: str) -> tuple[dict, dict]:
        """A pass of ``orbiter`` seen by both landers (the two overflights), the longest."""
        ovs = self.overflights(orbiter=orbiter)
        best = None
        for a in ovs:
            for b in ovs:
                if (a["lander"], b["lander"]) == ("Rosalind Franklin", "Sample Lander") and (
                        a["start_utc"] < b["end_utc"] and b["start_utc"] < a["end_utc"]):
                    span = min(a["end_utc"], b["end_utc"]) > max(a["start_utc"], b["start_utc"])
                    if span and (best is None or a["duration_s"] > best[0]["duration_s"]):
                        best = (a, b)
        assert best is not None, "the test scenario has no shared pass"
        return best

    def create(self, user: str, overflight_id: int, **fields: Any) -> dict:
        body = {"overflight_id": overflight_id, "return_bits": 10_000_000, **fields}
        r = self.post("/requests", user, body)
        assert r.status_code == 201, r.text
        return r.json()

    def snapshot(self) -> dict[str, list]:
        """Every row of the tables a forbidden call must leave alone."""
        from sqlalchemy import text

        out = {}
        with self.service.db.engine.connect() as conn:
            for table in ("requests", "events", "audit", "files", "overflights", "trajectories",
                          "assets"):
                out[table] = [tuple(r) for r in conn.execute(
                    text(f"SELECT * FROM {table} ORDER BY 1"))]
        return out

    def close(self) -> None:
        self.client.close()
        self.service.db.dispose()


def make_env(backend: str, url: str, tokens: dict[str, str], **settings: Any) -> Env:
    service = RelayService(Database.open(url), Settings(db_url=url, **settings))
    client = TestClient(create_app(service=service), raise_server_exceptions=False)
    return Env(backend, url, service, client, tokens)


def wait_for(predicate, timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true (no fixed sleeps); AssertionError after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


# -------------------------------------------------------------------------------------------
# Fixtures: a test module imports the ones it uses (``from service_kit import env, ...``)
# -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def service_scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("service-scenario") / "service-test.toml"
    path.write_text(SERVICE_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, service_scenario) -> Template:
    path = tmp_path_factory.mktemp("service-template") / "template.db"
    return build_template(f"sqlite:///{path}", service_scenario)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server, service_scenario) -> Template:
    pg_server.sql("CREATE DATABASE mr_template")
    template = build_template(pg_server.url("mr_template"), service_scenario)
    return template


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, tmp_path) -> Iterator[Env]:
    """A fresh service database (copied from the template) with a test client."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        src = Path(template.url.removeprefix("sqlite:///"))
        dst = tmp_path / "service.db"
        shutil.copyfile(src, dst)
        url = f"sqlite:///{dst}"
    else:
        server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("pg_template")
        name = f"mr_test_{next(server.counter)}"
        server.sql(f"CREATE DATABASE {name} TEMPLATE mr_template")
        url = server.url(name)
    e = make_env(request.param, url, template.tokens)
    try:
        yield e
    finally:
        e.close()
        if request.param == "postgres":
            name = url.rsplit("/", 1)[1]
            request.getfixturevalue("pg_server").sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
