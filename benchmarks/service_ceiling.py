"""The ceiling of the service benchmark's set-up: a bare FastAPI app on the same machine.

Prints ONE JSON line. Serves two trivial routes (a read returning a small JSON list, a write
taking a small JSON body), each behind a bearer-token dependency, with the same server stack
as ``marsrelay serve`` (uvicorn, httptools, uvloop, 2 worker processes), and drives it with the
same closed loop as ``benchmarks/service.py`` (64 httpx async clients, one keep-alive
connection each, 80 % reads). No database, no validation beyond FastAPI's own: what any
service on this framework can sustain here, with the load generator on the same cores.
``calls_per_s`` of ``service.py`` divided by this one's is the share the service's own work
leaves of the framework's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

APP = '''
from typing import Annotated
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

app = FastAPI()
bearer = HTTPBearer(auto_error=False)

async def actor(cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    if cred is None or not cred.credentials.startswith("t"):
        raise HTTPException(401)
    return cred.credentials

class Item(BaseModel):
    lander: str
    start: str
    end: str

ROWS = [{"id": i, "orbiter": "TGO", "start": "2030-01-01T00:00:00.000Z",
         "end": "2030-01-01T00:10:00.000Z", "max_elevation_deg": 42.0} for i in range(8)]

@app.get("/read")
def read(who: Annotated[str, Depends(actor)]) -> list[dict]:
    return ROWS

@app.post("/write", status_code=201)
def write(item: Item, who: Annotated[str, Depends(actor)]) -> dict:
    return {"id": 1, "state": "requested", **item.model_dump()}
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _drive(base: str, clients: int, warmup_s: float, duration_s: float) -> dict:
    lat_r: list[float] = []
    lat_w: list[float] = []
    errors = 0
    t_start = time.perf_counter() + warmup_s
    t_end = t_start + duration_s

    async def one(i: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer t{i}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
            k = 0
            while (now := time.perf_counter()) < t_end:
                k += 1
                write = k % 5 == 0
                t0 = time.perf_counter()
                if write:
                    r = await c.post("/write", json={"lander": "RF", "start": "a", "end": "b"})
                else:
                    r = await c.get("/read")
                dt = (time.perf_counter() - t0) * 1000
                if r.status_code >= 500:
                    errors += 1
                if now >= t_start:
                    (lat_w if write else lat_r).append(dt)

    await asyncio.gather(*(one(i) for i in range(clients)))

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2) if xs else 0.0

    return {
        "reads_per_s": round(len(lat_r) / duration_s, 1),
        "writes_per_s": round(len(lat_w) / duration_s, 1),
        "calls_per_s": round((len(lat_r) + len(lat_w)) / duration_s, 1),
        "read_p50_ms": pct(lat_r, 0.5), "read_p99_ms": pct(lat_r, 0.99),
        "write_p99_ms": pct(lat_w, 0.99), "server_errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="marsrelay-bench-ceiling-"))
    (tmp / "ceiling_app.py").write_text(APP)
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "ceiling_app:app", "--port", str(port),
           "--workers", str(args.workers), "--http", "httptools", "--loop", "uvloop",
           "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/read", headers={"Authorization": "Bearer t"}).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        load = os.getloadavg()[0]
        out = asyncio.run(_drive(base, args.clients, args.warmup, args.duration))
    finally:
        proc.terminate()
        proc.wait(10)
    print(json.dumps({"peer": "bare FastAPI", "clients": args.clients,
                      "duration_s": args.duration, "workers": args.workers,
                      "cores": os.cpu_count(), "load_avg_1min_before": load, **out}))


if __name__ == "__main__":
    main()
