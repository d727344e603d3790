"""Benchmark of the relay coordination service under load: prints ONE JSON line.

Starts ``marsrelay serve`` on a real port (a SQLite file by default; ``--db URL`` for an
existing PostgreSQL database, or ``--backend postgres`` for a PostgreSQL server started here in
a temporary folder like the test kit's), then drives it over HTTP with ``--clients`` concurrent
clients (httpx async, one keep-alive connection and one API token each) for ``--duration``
seconds after a ``--warmup``. No think time: every client sends its next call as soon as the
last one is answered (a closed loop), so the figures are what the service sustains.

The scenario is ``exomars-2030`` (TGO of ESA; MRO and MAVEN of NASA; 30 days) with two more
landers of two more agencies (NASA's Curiosity at Bradbury Landing, CNSA's Zhurong at Utopia
Planitia), so every orbiter team grants passes to other agencies. The mix (per client):

- lander teams (5 of 8 clients): overflights of their lander in a day 30 %, events polling 25 %,
  one of their requests 10 %, their open requests 10 %, create a request 20 % (whole or part
  of an overflight), cancel one 5 %;
- orbiter teams (3 of 8, ESA's on TGO, NASA's on MRO and MAVEN): the queue of requested passes
  on their orbiter 25 %, events 25 %, overflights 10 %, busy windows 10 %, one request 5 %,
  acknowledge a queued request 25 % (on a 409, overlap or stale version, they reject it with a
  reason instead: a second write).

After the run the server is stopped and the database is read directly: every write answered
2xx (its request id, version and state) must be in the audit log with that version and state
(``lost_writes`` counts those that are not), and every request must have exactly one event and
one audit row per version (``half_written`` counts those that do not).

Keys: clients, duration_s, reads_per_s, writes_per_s (2xx writes), read_p50_ms, read_p99_ms,
write_p50_ms, write_p99_ms, acked_writes, lost_writes, half_written, server_errors (5xx and
transport errors), conflicts_409, throttled_429, other_4xx, backend, workers, cores,
load_avg_1min_before / _after (other processes on the machine skew every figure),
server_cpu_s and client_cpu_s (CPU time of the server processes and of this load generator
during the measured span), and the same per call answered (server_cpu_ms_per_call,
client_cpu_ms_per_call): on 2 cores shared with the clients, throughput is about
2000 / (server + client ms per call) calls per second at best.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.service_kit import (
    PgServer,
    free_port,
    lost_and_half_written,
    start_postgres,
)
from marsrelay.scenario.load import builtin_scenario_path
from marsrelay.service.db.engine import Database
from marsrelay.service.ops import RelayService
from marsrelay.service.timefmt import format_ms, parse_ms

#: Landers added to exomars-2030 (sites: NASA/JPL MSL landing release; CNSA Tianwen-1 landing
#: release, 25.066 N 109.925 E).
EXTRA_LANDERS = """
[[lander]]
name = "Curiosity"
agency = "NASA"
lat_deg = -4.5895
lon_east_deg = 137.4417
height_km = -4.501
elevation_mask_deg = 10.0
radio = "electra-lite"
direct_to_earth = false

[[lander]]
name = "Zhurong"
agency = "CNSA"
lat_deg = 25.066
lon_east_deg = 109.925
height_km = -4.1
elevation_mask_deg = 10.0
direct_to_earth = false
"""

LANDER_TEAMS = [("ESA", "Rosalind Franklin"), ("NASA", "Curiosity"), ("CNSA", "Zhurong")]
ORBITER_TEAMS = [("ESA", ["TGO"]), ("NASA", ["MRO", "MAVEN"])]
DAY_MS = 86_400_000


def scenario_text() -> str:
    base = builtin_scenario_path("exomars-2030").read_text(encoding="utf-8")
    return base.replace('name = "exomars-2030"', 'name = "exomars-2030-bench"') + EXTRA_LANDERS


# -------------------------------------------------------------------------------------------
# Clients
# -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    read_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    acked: list[tuple[int, int, str]] = field(default_factory=list)  # (id, version, state)
    measuring: bool = False


@dataclass
class Client:
    http: httpx.AsyncClient
    kind: str  # "lander" | "orbiter"
    target: list[str]  # the lander, or the orbiters
    span_ms: tuple[int, int]
    rng: random.Random
    overflights: list[dict] = field(default_factory=list)
    mine: dict[int, int] = field(default_factory=dict)  # request id -> version
    queue: list[tuple[int, int]] = field(default_factory=list)
    last_event: int = 0


async def call(c: Client, tally: Tally, method: str, path: str, write: bool,
               **kw) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        r = await c.http.request(method, path, **kw)
    except httpx.HTTPError:
        if tally.measuring:
            tally.server_errors += 1
        return None
    ms = (time.perf_counter() - t0) * 1000.0
    if tally.measuring:
        (tally.write_ms if write else tally.read_ms).append(ms)
        tally.statuses[r.status_code] += 1
        if r.status_code >= 500:
            tally.server_errors += 1
        elif write and 200 <= r.status_code < 300:
            body = r.json()
            tally.acked.append((body["id"], body["version"], body["state"]))
    return r


def day_window(c: Client) -> dict[str, str]:
    start = c.rng.randrange(c.span_ms[0], c.span_ms[1] - DAY_MS)
    return {"start": format_ms(start), "end": format_ms(start + DAY_MS)}


async def lander_step(c: Client, tally: Tally) -> None:
    op = c.rng.choices(["ovs", "events", "get", "mine", "create", "cancel"],
                       [30, 25, 10, 10, 20, 5])[0]
    lander = c.target[0]
    if op == "get" and c.mine:
        await call(c, tally, "GET", f"/requests/{c.rng.choice(list(c.mine))}", False)
    elif op == "mine":
        await call(c, tally, "GET", "/requests", False,
                   params={"lander": lander, "state": "requested", "limit": 20})
    elif op == "events":
        await poll_events(c, tally)
    elif op == "create":
        ov = c.rng.choice(c.overflights)
        body = {"overflight_id": ov["id"], "return_bits": c.rng.randrange(1, 10**8),
                "priority": c.rng.randint(1, 5), "note": "bench"}
        if c.rng.random() < 0.3:  # a split: the first or the second half of the pass
            a, b = parse_ms(ov["start_utc"]), parse_ms(ov["end_utc"])
            mid = (a + b) // 2
            a, b = (a, mid) if c.rng.random() < 0.5 else (mid, b)
            body |= {"start_utc": format_ms(a), "end_utc": format_ms(b)}
        r = await call(c, tally, "POST", "/requests", True, json=body)
        if r is not None and r.status_code == 201:
            c.mine[r.json()["id"]] = 1
    elif op == "cancel" and c.mine:
        rid = c.rng.choice(list(c.mine))
        r = await call(c, tally, "POST", f"/requests/{rid}/cancel", True,
                       json={"version": c.mine[rid]})
        c.mine.pop(rid)
    else:
        await call(c, tally, "GET", "/overflights", False,
                   params={"lander": lander, **day_window(c)})


async def orbiter_step(c: Client, tally: Tally) -> None:
    op = c.rng.choices(["queue", "events", "ovs", "busy", "get", "ack"],
                       [25, 25, 10, 10, 5, 25])[0]
    orbiter = c.rng.choice(c.target)
    if op == "ack" and c.queue:
        rid, version = c.queue.pop(c.rng.randrange(len(c.queue)))
        r = await call(c, tally, "POST", f"/requests/{rid}/acknowledge", True,
                       json={"version": version})
        if r is not None and r.status_code == 409:
            await call(c, tally, "POST", f"/requests/{rid}/reject", True,
                       json={"version": version, "reason": "conflicts with a granted pass"})
    elif op in ("queue", "ack"):
        r = await call(c, tally, "GET", "/requests", False,
                       params={"orbiter": orbiter, "state": "requested", "limit": 20})
        if r is not None and r.status_code == 200:
            c.queue = [(x["id"], x["version"]) for x in r.json()]
    elif op == "events":
        await poll_events(c, tally)
    elif op == "busy":
        await call(c, tally, "GET", "/busy", False, params={"orbiter": orbiter, **day_window(c)})
    elif op == "get" and c.queue:
        await call(c, tally, "GET", f"/requests/{c.rng.choice(c.queue)[0]}", False)
    else:
        await call(c, tally, "GET", "/overflights", False,
                   params={"orbiter": orbiter, **day_window(c)})


async def poll_events(c: Client, tally: Tally) -> None:
    r = await call(c, tally, "GET", "/events", False, params={"after": c.last_event, "limit": 100})
    if r is not None and r.status_code == 200 and r.json():
        c.last_event = r.json()[-1]["id"]


async def drive(base: str, users: list[tuple[str, str, list[str]]], span_ms: tuple[int, int],
                warmup_s: float, duration_s: float, seed: int,
                server_cpu: Callable[[], float]) -> tuple[Tally, float, float, float]:
    """Run the clients; returns the tally, the measured span (s), and the CPU seconds the
    server and this load generator used in it."""
    tally = Tally()
    clients = [
        Client(httpx.AsyncClient(base_url=base, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"},
                                 limits=httpx.Limits(max_connections=1)),
               kind, target, span_ms, random.Random(seed + i))
        for i, (token, kind, target) in enumerate(users)
    ]
    for c in clients:
        params = {"lander": c.target[0]} if c.kind == "lander" else {}
        c.overflights = (await c.http.get("/overflights", params=params)).json()
        events = (await c.http.get("/events", params={"after": 0, "limit": 1000})).json()
        c.last_event = events[-1]["id"] if events else 0
    stop = asyncio.Event()

    async def run(c: Client) -> None:
        step = lander_step if c.kind == "lander" else orbiter_step
        while not stop.is_set():
            await step(c, tally)

    tasks = [asyncio.create_task(run(c)) for c in clients]
    await asyncio.sleep(warmup_s)
    tally.measuring = True
    t0, s0, c0 = time.perf_counter(), server_cpu(), time.process_time()
    await asyncio.sleep(duration_s)
    tally.measuring = False
    elapsed = time.perf_counter() - t0
    server_s, client_s = server_cpu() - s0, time.process_time() - c0
    stop.set()
    await asyncio.gather(*tasks)
    for c in clients:
        await c.http.aclose()
    return tally, elapsed, server_s, client_s


# -------------------------------------------------------------------------------------------
# Server, database, checks
# -------------------------------------------------------------------------------------------


def serve(url: str, port: int, workers: int, log: Path, profile: str | None) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "marsrelay")
    cmd = [exe, "serve", "--db", url, "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    if profile:  # py-spy's folded stacks of every server process (``pip install py-spy``)
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        cmd = [spy, "record", "--format", "raw", "--subprocesses", "--gil", "--rate", "100",
               "--output", profile, "--", *cmd]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_up(port: int, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"marsrelay serve exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("marsrelay serve did not start")


def cpu_s(pid: int) -> float:
    """CPU time (user + system, s) of ``pid`` and its children (live and reaped)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in
                 Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                    help="postgres: start a PostgreSQL server in a temporary folder")
    ap.add_argument("--db", help="an existing database URL instead (postgresql+psycopg://...)")
    ap.add_argument("--workers", type=int, default=2, help="marsrelay serve --workers")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--profile", metavar="FILE",
                    help="run the server under py-spy; folded stacks into FILE")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="marsrelay-bench-service-"))
    pg: PgServer | None = None
    proc = None
    try:
        if args.db:
            url = args.db
        elif args.backend == "postgres":
            pg = start_postgres()
            pg.sql("CREATE DATABASE bench")
            url = pg.url("bench")
        else:
            url = f"sqlite:///{tmp / 'service.db'}"
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        scen = tmp / "exomars-2030-bench.toml"
        scen.write_text(scenario_text(), encoding="utf-8")
        db = Database.open(url)
        try:
            service = RelayService(db)
            service.initialize(str(scen))
            meta = service.describe()
            span_ms = (parse_ms(meta["span_start_utc"]), parse_ms(meta["span_end_utc"]))
            users = []
            for i in range(args.clients):
                if i % 8 < 5:
                    agency, lander = LANDER_TEAMS[i % len(LANDER_TEAMS)]
                    kind, target = "lander", [lander]
                else:
                    agency, target = ORBITER_TEAMS[i % len(ORBITER_TEAMS)]
                    kind = "orbiter"
                token, _ = service.add_user(f"bench-{i:03d}", agency, "planner")
                users.append((token, kind, target))
        finally:
            db.dispose()

        port = free_port()
        proc = serve(url, port, args.workers, tmp / "server.log", args.profile)
        wait_up(port, proc)
        server_pid = proc.pid
        tally, elapsed, server_cpu, client_cpu = asyncio.run(
            drive(f"http://127.0.0.1:{port}/api/v1", users, span_ms, args.warmup,
                  args.duration, args.seed, lambda: cpu_s(server_pid))
        )
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        lost, half = lost_and_half_written(url, tally.acked)
        st = tally.statuses
        print(json.dumps({
            "clients": args.clients,
            "duration_s": round(elapsed, 2),
            "reads_per_s": round(len(tally.read_ms) / elapsed, 1),
            "writes_per_s": round(len(tally.acked) / elapsed, 1),
            "read_p50_ms": pct(tally.read_ms, 0.50),
            "read_p99_ms": pct(tally.read_ms, 0.99),
            "write_p50_ms": pct(tally.write_ms, 0.50),
            "write_p99_ms": pct(tally.write_ms, 0.99),
            "acked_writes": len(tally.acked),
            "lost_writes": lost,
            "half_written": half,
            "server_errors": tally.server_errors,
            "conflicts_409": st[409],
            "throttled_429": st[429],
            "other_4xx": sum(n for s, n in st.items() if 400 <= s < 500 and s not in (409, 429)),
            "backend": backend,
            "workers": args.workers,
            "cores": os.cpu_count(),
            "load_avg_1min_before": round(load_before, 2),
            "load_avg_1min_after": round(os.getloadavg()[0], 2),
            "server_cpu_s": round(server_cpu, 1),
            "client_cpu_s": round(client_cpu, 1),
            "server_cpu_ms_per_call": round(
                1000 * server_cpu / max(1, len(tally.read_ms) + len(tally.write_ms)), 2),
            "client_cpu_ms_per_call": round(
                1000 * client_cpu / max(1, len(tally.read_ms) + len(tally.write_ms)), 2),
        }))
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if pg is not None:
            pg.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
