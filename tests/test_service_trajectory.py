"""Publishing a trajectory: a new version, overflights re-predicted, live requests whose window
still fits re-linked (event), the others ``stale`` (event), nothing dropped; OEM and elements."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.service_kit import Env
from marsrelay.geometry.orbits import write_oem
from marsrelay.scenario import load_scenario
from marsrelay.service.timefmt import parse_ms

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MRO = {"a_km": 3683.69, "e": 0.008823, "i_deg": 92.6, "raan_deg": 320.5, "argp_deg": 270.0,
       "mean_anomaly_deg": 90.0}


def _put(env: Env, user: str, orbiter: str, **kw):
    return env.client.put(f"/api/v1/orbiters/{orbiter}/trajectory",
                          headers={**env.h(user), **kw.pop("headers", {})}, **kw)


def test_a_moved_pass_makes_its_request_stale_and_a_kept_one_is_relinked(env: Env) -> None:
    ovs = env.overflights(orbiter="MRO", lander="Rosalind Franklin")
    moved = env.create("esa_planner", ovs[0]["id"])
    acked = env.create("esa_planner", ovs[1]["id"])
    acked = env.post(f"/requests/{acked['id']}/acknowledge", "nasa_planner",
                     {"version": 1}).json()
    done = env.create("esa_planner", ovs[2]["id"])
    done = env.post(f"/requests/{done['id']}/cancel", "esa_planner", {"version": 1}).json()
    last_event = env.get("/events", "admin").json()[-1]["id"]

    # Same orbit again: every window is predicted identically, so every live request fits.
    r = _put(env, "nasa_planner", "MRO", json=MRO)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["trajectory_version"] == 2 and out["elapsed_ms"] > 0
    assert sorted(out["relinked"]) == sorted([moved["id"], acked["id"]]) and out["stale"] == []
    now = {o["id"]: o for o in env.overflights(orbiter="MRO")}
    assert {o["trajectory_version"] for o in now.values()} == {2}
    for req in (moved, acked):
        after = env.get(f"/requests/{req['id']}", "esa_viewer").json()
        assert after["overflight_id"] in now and after["overflight_id"] != req["overflight_id"]
        assert after["state"] == req["state"] and after["version"] == req["version"] + 1
    # the cancelled request is left alone; the old overflights are kept, superseded
    assert env.get(f"/requests/{done['id']}", "admin").json() == done
    old = env.get(f"/overflights/{ovs[0]['id']}", "asi_planner").json()
    assert old["superseded"] and old["trajectory_version"] == 1

    # Half an orbit later along the track: every pass moves; live requests become stale.
    shifted = {**MRO, "mean_anomaly_deg": 270.0}
    r = _put(env, "nasa_planner", "MRO", json={"elements": shifted})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["stale"]) == sorted([moved["id"], acked["id"]])
    for req in (moved, acked):
        after = env.get(f"/requests/{req['id']}", "esa_viewer").json()
        assert after["state"] == "stale" and after["version"] == req["version"] + 2
    events = env.get(f"/events?after={last_event}", "esa_viewer").json()
    kinds = [(e["kind"], e["request_id"]) for e in events]
    for req in (moved, acked):
        assert ("trajectory", req["id"]) in kinds and ("stale", req["id"]) in kinds
    assert [e["version"] for e in events if e["kind"] == "trajectory"
            and e["request_id"] is None] == [2, 3]
    # a stale request can no longer be acknowledged or cancelled
    assert env.post(f"/requests/{moved['id']}/acknowledge", "nasa_planner",
                    {"version": moved["version"] + 2}).status_code == 409
    assert env.get("/assets", "esa_viewer").json()[1]["trajectory_version"] == 3


def test_publishing_needs_the_orbiter_agency_and_a_usable_trajectory(env: Env) -> None:
    assert _put(env, "esa_planner", "MRO", json=MRO).status_code == 403
    assert _put(env, "nasa_viewer", "MRO", json=MRO).status_code == 403
    assert _put(env, "nasa_planner", "Nope", json=MRO).status_code == 404
    assert _put(env, "nasa_planner", "Rosalind Franklin", json=MRO).status_code == 404
    inside_mars = {**MRO, "a_km": 3000.0}
    r = _put(env, "nasa_planner", "MRO", json=inside_mars)
    assert r.status_code == 422
    r = _put(env, "nasa_planner", "MRO", json={"i_deg": 92.6})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "a_km"]
    assert _put(env, "nasa_planner", "MRO", content=b"not an orbit").status_code == 422
    assert _put(env, "nasa_planner", "MRO",
                content=b"CCSDS_OEM_VERS = 2.0\ngarbage\n").status_code == 422
    assert env.get("/assets", "admin").json()[1]["trajectory_version"] == 1


def test_an_oem_trajectory_predicts_the_same_passes(env: Env, service_scenario, tmp_path) -> None:
    scenario = load_scenario(service_scenario)
    mro = scenario.orbiters[1]
    t = np.arange(scenario.start_tdb_s - 600.0, scenario.end_tdb_s + 600.0, 30.0)
    r, v = mro.trajectory(scenario.rotation).state_km(t)
    path = tmp_path / "mro.oem"
    write_oem(path, "MRO", t, r, v)
    before = env.overflights(orbiter="MRO")
    resp = _put(env, "nasa_planner", "MRO", content=path.read_bytes(),
                headers={"content-type": "text/plain"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["source"] == "oem"
    after = env.overflights(orbiter="MRO")
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        assert abs(parse_ms(a["start_utc"]) - parse_ms(b["start_utc"])) < 1000
        assert abs(parse_ms(a["end_utc"]) - parse_ms(b["end_utc"])) < 1000
    # as a multipart upload too
    resp = _put(env, "nasa_planner", "MRO", files={"file": ("mro.oem", path.read_bytes())})
    assert resp.status_code == 200 and resp.json()["trajectory_version"] == 3
