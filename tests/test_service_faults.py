"""Faults under a running ``marsrelay serve`` (a real process on a real port):

- ``kill -9`` of every server process in the middle of a write burst, restart: every write
  answered 2xx is there, and no request is half-written (one event and one audit row per
  version), on SQLite and on PostgreSQL;
- the database's disk full (SQLite: ``RLIMIT_FSIZE`` on the server process, so every write to
  a file fails as on a full disk, as root or not) and the database read-only (SQLite:
  ``chattr +i`` as root, ``chmod a-w`` otherwise; PostgreSQL: ``default_transaction_read_only``
  as after a fail-over to a standby): reads go on, writes get 503 with a message naming the
  fault, the file stays intact, and writes work again once the fault is gone, without a
  restart;
- PostgreSQL stopped and started under the service: 503 while it is down, then the service
  reconnects by itself;
- ``marsrelay service backup`` while writes run: the restored copy is consistent and holds
  between the writes acknowledged before the backup and those acknowledged after it.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from helpers.service_kit import (
    IN_CI,
    ServeProcess,
    copy_template,
    lost_and_half_written,
    need,
    sqlite_integrity,
    start_serve,
    wait_for,
)

NO_LIMIT = {"MARSRELAY_WRITE_RATE": "0"}


def _database(request, tmp_path) -> tuple[str, dict[str, str]]:
    """(url, tokens) of a fresh database of the backend ``request.param``."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        return copy_template(template, tmp_path), template.tokens
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"mr_fault_{next(server.counter)}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE mr_template")
    request.addfinalizer(lambda: server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return server.url(name), template.tokens


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class Writers:
    """Threads creating (and acknowledging) requests as fast as the server answers, until
    stopped or the server goes away; ``acked`` holds every 2xx: (id, version, state)."""

    def __init__(self, server: ServeProcess, tokens: dict[str, str], threads: int = 6) -> None:
        self.server, self.tokens = server, tokens
        self.acked: list[tuple[int, int, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        with server.client(tokens["admin"]) as c:
            self.ovs = c.get("/overflights", params={"lander": "Rosalind Franklin",
                                                     "orbiter": "MRO"}).json()
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                        for k in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self, k: int) -> None:
        esa, nasa = self.server.client(self.tokens["esa_planner"], 60), self.server.client(
            self.tokens["nasa_planner"], 60)
        j = 0
        try:
            while not self.stop.is_set():
                j += 1
                ov = self.ovs[(k * 7 + j) % len(self.ovs)]
                r = esa.post("/requests", json={"overflight_id": ov["id"], "return_bits": j})
                if r.status_code != 201:
                    continue
                self._ack(r.json())
                if j % 3 == 0:
                    r = nasa.post(f"/requests/{r.json()['id']}/acknowledge", json={"version": 1})
                    if r.status_code == 200:
                        self._ack(r.json())
        except httpx.HTTPError:
            return
        finally:
            esa.close()
            nasa.close()

    def _ack(self, body: dict) -> None:
        with self.lock:
            self.acked.append((body["id"], body["version"], body["state"]))

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path) -> tuple[str, dict[str, str]]:
    return _database(request, tmp_path)


@pytest.mark.slow
def test_kill_9_during_a_write_burst_loses_no_acknowledged_write(database) -> None:
    url, tokens = database
    server = start_serve(url, "--workers", "2", env=NO_LIMIT)
    try:
        writers = Writers(server, tokens, threads=8)
        wait_for(lambda: writers.count() >= 80, 120, "80 acknowledged writes")
        server.kill9()  # every process of the server, in the middle of the burst
        writers.join()
    finally:
        if server.proc.poll() is None:
            server.kill9()
    acked = list(writers.acked)
    assert len(acked) >= 80
    if url.startswith("sqlite"):
        assert sqlite_integrity(url.removeprefix("sqlite:///")) == "ok"
    again = start_serve(url, env=NO_LIMIT)
    try:
        with again.client(tokens["admin"]) as c:
            for rid, version, _state in acked[-20:]:
                got = c.get(f"/requests/{rid}")
                assert got.status_code == 200 and got.json()["version"] >= version
    finally:
        assert again.stop() == 0
    assert lost_and_half_written(url, acked) == (0, 0)


def _create(c: httpx.Client, ov_id: int) -> httpx.Response:
    return c.post("/requests", json={"overflight_id": ov_id, "return_bits": 5})


def _fault_round(server: ServeProcess, tokens: dict[str, str], words: tuple[str, ...],
                 lift) -> list[tuple[int, int, str]]:
    """While the fault is on: reads 200, every write 503 naming it (with Retry-After); then
    ``lift()`` it and poll until writes succeed again. Returns the acknowledged writes."""
    acked = []
    with server.client(tokens["esa_planner"]) as c:
        ov = c.get("/overflights", params={"lander": "Rosalind Franklin"}).json()[0]
        for _ in range(3):
            r = _create(c, ov["id"])
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"].isdigit()
            detail = r.json()["detail"]
            assert any(w in detail for w in words), detail
            assert c.get("/requests").status_code == 200
            assert c.get(f"/overflights/{ov['id']}").status_code == 200
        lift()

        def writes_again() -> bool:
            r = _create(c, ov["id"])
            if r.status_code == 201:
                acked.append((r.json()["id"], 1, "requested"))
                return True
            assert r.status_code == 503, r.text
            return False

        wait_for(writes_again, 30, "writes to work again")
        r = _create(c, ov["id"])
        assert r.status_code == 201
        acked.append((r.json()["id"], 1, "requested"))
    return acked


def test_disk_full_gives_503_then_recovers(sqlite_template, tmp_path) -> None:
    """RLIMIT_FSIZE = 1 byte on the server process: each write to a file past its first byte
    fails (EFBIG) exactly where a full disk fails (ENOSPC), as root or not."""
    url = copy_template(sqlite_template, tmp_path)
    server = start_serve(url, env=NO_LIMIT)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    tokens = sqlite_template.tokens
    try:
        with server.client(tokens["esa_planner"]) as c:
            ov = c.get("/overflights", params={"lander": "Rosalind Franklin"}).json()[0]
            first = _create(c, ov["id"])
            assert first.status_code == 201
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (1, hard))
        acked = _fault_round(
            server, tokens, ("disk is full", "cannot be written"),
            lambda: resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (hard, hard)))
    finally:
        assert server.stop() == 0
    acked.append((first.json()["id"], 1, "requested"))
    assert sqlite_integrity(url.removeprefix("sqlite:///")) == "ok"
    assert lost_and_half_written(url, acked) == (0, 0)
    assert "Traceback" not in server.text()


def _read_only_tool() -> tuple[str, str]:
    """How to make a file read-only for the server: ``chattr +i`` as root (file modes do
    not stop root), ``chmod`` otherwise."""
    if os.geteuid() != 0:
        return "chmod", ""
    chattr = shutil.which("chattr")
    need(chattr is not None, "chattr is missing (e2fsprogs): root ignores file modes")
    return "chattr", str(chattr)


def _set_read_only(paths: list[Path], on: bool) -> None:
    tool, chattr = _read_only_tool()
    for p in paths:
        if not p.exists():
            continue
        if tool == "chmod":
            p.chmod(0o444 if on else 0o644)
        else:
            done = subprocess.run([chattr, "+i" if on else "-i", str(p)], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                msg = f"chattr cannot mark files immutable here: {done.stderr.strip()}"
                if IN_CI:
                    pytest.fail(msg)
                pytest.skip(msg)


@pytest.mark.parametrize("when", ["at start", "while running"])
def test_read_only_database_gives_503_then_recovers(sqlite_template, tmp_path, when) -> None:
    url = copy_template(sqlite_template, tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    # The database and its write-ahead log. Not the -shm index while the server has it
    # mapped: an immutable mapped page ends the process with SIGBUS, no fault a database
    # file meets in operation.
    files = [path, Path(f"{path}-wal")]
    if when == "at start":
        files.append(Path(f"{path}-shm"))
    tool, _ = _read_only_tool()
    if when == "while running" and tool == "chmod":
        pytest.skip("a file mode does not affect files the server already has open: only "
                    "root's chattr +i makes a running server's database read-only")
    tokens = sqlite_template.tokens
    try:
        if when == "at start":
            _set_read_only(files, True)
        server = start_serve(url, env=NO_LIMIT)
        try:
            if when == "while running":
                with server.client(tokens["esa_planner"]) as c:
                    ov = c.get("/overflights").json()[0]
                    assert _create(c, ov["id"]).status_code in (201, 403)
                _set_read_only(files, True)
            acked = _fault_round(server, tokens, ("read-only", "cannot be written"),
                                 lambda: _set_read_only(files, False))
        finally:
            assert server.stop() == 0
    finally:
        _set_read_only(files, False)
    assert sqlite_integrity(path) == "ok"
    assert lost_and_half_written(url, acked) == (0, 0)


@pytest.mark.postgres
def test_postgres_restart_fails_cleanly_then_reconnects(pg_server, pg_template) -> None:
    name = f"mr_fault_{next(pg_server.counter)}"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE mr_template")
    url, tokens = pg_server.url(name), pg_template.tokens
    server = start_serve(url, env=NO_LIMIT)
    acked = []
    try:
        with server.client(tokens["esa_planner"], timeout_s=30) as c:
            ov = c.get("/overflights", params={"lander": "Rosalind Franklin"}).json()[0]
            r = _create(c, ov["id"])
            assert r.status_code == 201
            acked.append((r.json()["id"], 1, "requested"))
            pg_server.stop()
            try:
                for path in ("/requests", "/overflights", f"/requests/{acked[0][0]}"):
                    r = c.get(path)
                    assert r.status_code == 503, r.text
                    assert "database" in r.json()["detail"]
                r = _create(c, ov["id"])
                assert r.status_code == 503 and r.headers["retry-after"].isdigit()
            finally:
                pg_server.start()

            def back() -> bool:
                r = _create(c, ov["id"])
                assert r.status_code in (201, 503), r.text
                if r.status_code == 201:
                    acked.append((r.json()["id"], 1, "requested"))
                return r.status_code == 201

            wait_for(back, 60, "the service to reconnect")
            assert c.get("/requests").status_code == 200
    finally:
        assert server.stop() == 0
    assert lost_and_half_written(url, acked) == (0, 0)
    assert "Traceback" not in server.text()
    pg_server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
def test_postgres_read_only_gives_503_then_recovers(pg_server, pg_template) -> None:
    """As after a fail-over that left the service on a standby: transactions are read-only."""
    name = f"mr_fault_{next(pg_server.counter)}"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE mr_template")
    url, tokens = pg_server.url(name), pg_template.tokens
    kick = (f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
            "AND pid <> pg_backend_pid()")
    server = start_serve(url, env=NO_LIMIT)
    try:
        pg_server.sql(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        pg_server.sql(kick)

        def lift() -> None:
            pg_server.sql(f"ALTER DATABASE {name} RESET default_transaction_read_only")

        with server.client(tokens["admin"]) as c:  # a read reconnects the pool
            wait_for(lambda: c.get("/assets").status_code == 200, 30, "reads to reconnect")
        acked = _fault_round(server, tokens, ("read-only",), lift)
    finally:
        assert server.stop() == 0
    assert lost_and_half_written(url, acked) == (0, 0)
    pg_server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _restore_postgres(pg_server, dump: Path) -> str:
    name = f"mr_restored_{next(pg_server.counter)}"
    pg_server.sql(f"CREATE DATABASE {name}")
    pg_restore = pg_server.bindir / "pg_restore"
    done = subprocess.run([str(pg_restore), "--no-owner", "-h", "127.0.0.1",
                           "-p", str(pg_server.port), "-U", "postgres", "-d", name, str(dump)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return pg_server.url(name)


@pytest.mark.slow
def test_backup_while_writes_run_restores_a_consistent_copy(database, tmp_path, request) -> None:
    url, tokens = database
    server = start_serve(url, env=NO_LIMIT)
    out = tmp_path / "backup" / ("copy.db" if url.startswith("sqlite") else "copy.dump")
    out.parent.mkdir()
    try:
        writers = Writers(server, tokens, threads=4)
        wait_for(lambda: writers.count() >= 20, 60, "writes to flow")
        before = writers.count()
        exe = str(Path(sys.executable).parent / "marsrelay")
        done = subprocess.run([exe, "service", "backup", str(out), "--db", url],
                              capture_output=True, text=True, check=False, timeout=300)
        after = writers.count()
        wait_for(lambda: writers.count() >= after + 10, 60, "writes to go on after the backup")
        writers.join()
    finally:
        assert server.stop() == 0
    assert done.returncode == 0, done.stderr
    assert after > before, "no write ran during the backup"
    if url.startswith("sqlite"):
        assert sqlite_integrity(out) == "ok"
        restored = f"sqlite:///{tmp_path / 'restored.db'}"
        shutil.copyfile(out, tmp_path / "restored.db")
    else:
        restored = _restore_postgres(request.getfixturevalue("pg_server"), out)
    acked = sorted(writers.acked)
    created = {rid for rid, v, _ in acked if v == 1}
    from sqlalchemy import text

    from marsrelay.service.db.engine import Database

    db = Database.open(restored)
    try:
        with db.engine.connect() as conn:
            ids = {r[0] for r in conn.execute(text("SELECT id FROM requests"))}
    finally:
        db.dispose()
    # every request the restored copy holds was created by the writers or the template
    # (none), and it holds at least those acknowledged before the backup started
    first_created = {rid for rid, v, _ in writers.acked[:before] if v == 1}
    assert first_created <= ids <= created
    assert len(ids) < len(created)  # writes went on after the snapshot
    _, half = lost_and_half_written(restored, [])
    assert half == 0
