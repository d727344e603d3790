"""The service's command line: ``service init`` (idempotent, ids kept), ``add-user`` (token as
the last line, stored only as a hash, argon2id password), ``backup``, and ``marsrelay serve`` as
a real subprocess: SIGINT -> 0, SIGTERM -> 143, and ``kill -9`` after acknowledged writes loses
nothing."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from helpers.service_kit import _free_port, need, wait_for
from marsrelay.cli.main import app
from marsrelay.service.security import hash_token

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'svc.db'}"


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _add_user(db: str, name: str, agency: str, role: str) -> str:
    res = runner.invoke(app, ["service", "add-user", name, "--agency", agency, "--role", role,
                              "--db", db])
    assert res.exit_code == 0, res.output
    return res.stdout.strip().splitlines()[-1]


def test_init_is_idempotent_and_keeps_ids(tmp_path, service_scenario) -> None:
    db = _db(tmp_path)
    res = runner.invoke(app, ["service", "init", str(service_scenario), "--db", db])
    assert res.exit_code == 0, res.output
    path = tmp_path / "svc.db"
    token = _add_user(db, "esa", "ESA", "planner")
    from fastapi.testclient import TestClient

    from marsrelay.service.api import create_app
    from marsrelay.service.config import Settings

    client = TestClient(create_app(Settings(db_url=db)))
    h = {"Authorization": f"Bearer {token}"}
    ov = client.get("/api/v1/overflights?lander=Rosalind Franklin", headers=h).json()[0]
    assert client.post("/api/v1/requests", headers=h, json={
        "overflight_id": ov["id"], "return_bits": 1}).status_code == 201
    client.close()
    tables = ("assets", "agencies", "overflights", "requests", "events", "trajectories")
    before = {t: _rows(path, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    res = runner.invoke(app, ["service", "init", str(service_scenario), "--db", db])
    assert res.exit_code == 0 and "unchanged" in res.stdout
    assert {t: _rows(path, f"SELECT * FROM {t} ORDER BY 1") for t in tables} == before
    # another scenario is refused with one line, exit 2
    other = tmp_path / "other.toml"
    other.write_text(service_scenario.read_text().replace("service-test", "other-one"))
    res = runner.invoke(app, ["service", "init", str(other), "--db", db])
    assert res.exit_code == 2 and "already holds scenario" in res.stderr


def test_init_reads_the_db_from_the_environment(tmp_path, service_scenario,
                                                monkeypatch) -> None:
    monkeypatch.setenv("MARSRELAY_DB", _db(tmp_path))
    res = runner.invoke(app, ["service", "init", str(service_scenario)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "svc.db").is_file()


def test_init_errors_are_one_line(tmp_path) -> None:
    res = runner.invoke(app, ["service", "init", "no-such-scenario", "--db", _db(tmp_path)])
    assert res.exit_code == 2 and res.stderr.startswith("error: ")
    res = runner.invoke(app, ["service", "init", "exomars-2030", "--db", "mysql://x/y"])
    assert res.exit_code == 2 and "--db" in res.stderr


def test_add_user_prints_a_token_stored_only_as_a_hash(tmp_path, service_scenario) -> None:
    db = _db(tmp_path)
    runner.invoke(app, ["service", "init", str(service_scenario), "--db", db])
    res = runner.invoke(app, ["service", "add-user", "ann", "--agency", "nasa", "--role",
                              "viewer", "--db", db, "--password-stdin"], input="s3cret pass\n")
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[-1]
    assert len(token) >= 43  # 256 bits in URL-safe base64
    path = tmp_path / "svc.db"
    hashes = [r[0] for r in _rows(path, "SELECT token_hash FROM tokens")]
    assert hashes == [hash_token(token)] and token not in str(_rows(path, "SELECT * FROM tokens"))
    (agency, role, pw), = _rows(path, "SELECT agencies.name, role, password_hash FROM users "
                                      "JOIN agencies ON agencies.id = users.agency_id")
    assert (agency, role) == ("NASA", "viewer")  # the scenario's spelling of the agency
    assert pw.startswith("$argon2id$")
    from marsrelay.service.security import verify_password

    assert verify_password(pw, "s3cret pass") and not verify_password(pw, "wrong")
    from marsrelay.service.db.engine import Database
    from marsrelay.service.ops import RelayService

    service = RelayService(Database.open(db))
    try:  # the pages' log-in (issue 16) checks the same hash
        actor = service.login("ann", "s3cret pass")
        assert actor is not None and (actor.agency, actor.role.value) == ("NASA", "viewer")
        assert service.login("ann", "wrong") is None and service.login("nobody", "x") is None
    finally:
        service.db.dispose()
    res = runner.invoke(app, ["service", "add-user", "bob", "--agency", "ESA", "--role",
                              "pilot", "--db", db])
    assert res.exit_code == 2 and "--role" in res.stderr


def test_backup_is_a_usable_copy(tmp_path, service_scenario) -> None:
    db = _db(tmp_path)
    runner.invoke(app, ["service", "init", str(service_scenario), "--db", db])
    _add_user(db, "esa", "ESA", "planner")
    out = tmp_path / "backup" / "copy.db"
    res = runner.invoke(app, ["service", "backup", str(out), "--db", db])
    assert res.exit_code == 0, res.output
    for table in ("overflights", "users", "tokens", "assets"):
        assert _rows(out, f"SELECT * FROM {table} ORDER BY 1") == _rows(
            tmp_path / "svc.db", f"SELECT * FROM {table} ORDER BY 1")
    assert _rows(out, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.postgres
def test_backup_of_postgres_uses_pg_dump(pg_server, pg_template, tmp_path) -> None:
    need(shutil.which("pg_dump") is not None or any(
        Path("/usr/lib/postgresql").glob("*/bin/pg_dump")), "pg_dump is not installed")
    out = tmp_path / "pg.dump"
    res = runner.invoke(app, ["service", "backup", str(out), "--db", pg_template.url])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:5] == b"PGDMP"


# -- marsrelay serve as a real process ----------------------------------------------------------


def _serve(db: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "MARSRELAY_DB": db}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "marsrelay"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def served_db(tmp_path, sqlite_template) -> tuple[str, dict[str, str]]:
    path = tmp_path / "served.db"
    shutil.copyfile(sqlite_template.url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}", sqlite_template.tokens


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 0), (signal.SIGTERM, 143)])
def test_serve_stops_cleanly_on_signals(served_db, sig, code) -> None:
    db, _ = served_db
    port = _free_port()
    proc = _serve(db, port)
    try:
        wait_for(lambda: _up(port) or proc.poll() is not None, 60, "marsrelay serve")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kill_9_after_acknowledged_writes_loses_nothing(served_db) -> None:
    db, tokens = served_db
    port = _free_port()
    proc = _serve(db, port)
    acked: list[dict] = []
    try:
        wait_for(lambda: _up(port) or proc.poll() is not None, 60, "marsrelay serve")
        esa = {"Authorization": f"Bearer {tokens['esa_planner']}"}
        nasa = {"Authorization": f"Bearer {tokens['nasa_planner']}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as c:
            ovs = c.get("/overflights", headers=esa,
                        params={"lander": "Rosalind Franklin", "orbiter": "MRO"}).json()
            for ov in ovs:
                r = c.post("/requests", headers=esa,
                           json={"overflight_id": ov["id"], "return_bits": 7})
                assert r.status_code == 201
                r = c.post(f"/requests/{r.json()['id']}/acknowledge", headers=nasa,
                           json={"version": 1})
                assert r.status_code == 200
                acked.append(r.json())
        proc.kill()  # SIGKILL: no shutdown, no flush
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = _serve(db, port)
    try:
        wait_for(lambda: _up(port) or proc.poll() is not None, 60, "marsrelay serve again")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as c:
            for req in acked:
                got = c.get(f"/requests/{req['id']}",
                            headers={"Authorization": f"Bearer {tokens['esa_viewer']}"}).json()
                assert got == req
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
