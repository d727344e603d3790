"""Concurrent clients over real HTTP (uvicorn on 127.0.0.1 in a thread): creations are never
lost, and of many acknowledgements of one request with the same version exactly one wins."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from helpers.service_kit import Env, _free_port, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def live(env: Env) -> Iterator[tuple[Env, str]]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(env.client.app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "the test server to start")
    try:
        yield env, f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.should_exit = True
        thread.join(30)


def test_many_clients_creating_requests_lose_none(live) -> None:
    env, base = live
    ovs = env.overflights(lander="Rosalind Franklin")
    before = len(env.get("/requests", "admin").json())

    def worker(k: int) -> list[int]:
        ids = []
        with httpx.Client(base_url=base, headers=env.h("esa_planner"), timeout=60) as c:
            for j in range(8):
                ov = ovs[(k + j) % len(ovs)]
                r = c.post("/requests", json={"overflight_id": ov["id"], "return_bits": k})
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
        return ids

    with ThreadPoolExecutor(16) as pool:
        made = [i for ids in pool.map(worker, range(16)) for i in ids]
    assert len(made) == len(set(made)) == 128
    listed = env.get("/requests", "admin").json()
    assert len(listed) == before + 128
    assert {r["id"] for r in listed} >= set(made)
    created = [e for e in env.get("/events", "admin").json() if e["kind"] == "created"]
    assert len(created) == before + 128


def test_many_clients_acknowledging_one_request_one_wins(live) -> None:
    env, base = live
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    req = env.create("esa_planner", ov["id"])
    barrier = threading.Barrier(16)

    def worker(_: int) -> int:
        with httpx.Client(base_url=base, headers=env.h("nasa_planner"), timeout=60) as c:
            barrier.wait()
            return c.post(f"/requests/{req['id']}/acknowledge", json={"version": 1}).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = Counter(pool.map(worker, range(16)))
    assert codes == {200: 1, 409: 15}
    after = env.get(f"/requests/{req['id']}", "admin").json()
    assert (after["state"], after["version"]) == ("acknowledged", 2)
    acks = [e for e in env.get("/events", "admin").json()
            if e["request_id"] == req["id"] and e["kind"] == "acknowledged"]
    assert len(acks) == 1


def test_overlapping_requests_acknowledged_at_once_one_wins(live) -> None:
    env, base = live
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[1]
    reqs = [env.create("esa_planner", ov["id"]) for _ in range(8)]
    barrier = threading.Barrier(8)

    def worker(req: dict) -> int:
        with httpx.Client(base_url=base, headers=env.h("nasa_planner"), timeout=60) as c:
            barrier.wait()
            return c.post(f"/requests/{req['id']}/acknowledge", json={"version": 1}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = Counter(pool.map(worker, reqs))
    assert codes == {200: 1, 409: 7}
    assert len(env.get("/busy?orbiter=MRO", "admin").json()) == 1
