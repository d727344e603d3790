"""The REST API against the real app (httpx TestClient), on SQLite and on a real PostgreSQL
server: the state machine, the status order of the spec (401, 404, 403, 422, 409), visibility,
conflicts and split passes, busy windows, results and accounting, events, files, SSF."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import pytest

from helpers.service_kit import Env, make_env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _mro_request(env: Env, user: str = "esa_planner", k: int = 0, **fields) -> dict:
    """A new request of Rosalind Franklin (ESA) on MRO (NASA)'s ``k``-th pass over it."""
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[k]
    return env.create(user, ov["id"], **fields)


# -- basics ----------------------------------------------------------------------------------


def test_health_needs_no_token_and_everything_else_does(env: Env) -> None:
    assert env.client.get("/api/v1/health").json() == {"status": "ok"}
    for path in ("/me", "/assets", "/overflights", "/requests", "/conflicts", "/busy",
                 "/accounting", "/events", "/audit", "/export/ssf", "/requests/1"):
        assert env.client.get("/api/v1" + path).status_code == 401, path
        bad = env.client.get("/api/v1" + path, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401, path
        assert bad.headers["www-authenticate"] == "Bearer"
    # 401 comes before any validation of query parameters or bodies
    assert env.client.get("/api/v1/overflights?limit=-4").status_code == 401
    assert env.client.post("/api/v1/requests", content=b"{bad json").status_code == 401
    assert env.client.post("/api/v1/requests/999/acknowledge", json={}).status_code == 401


def test_me_and_assets(env: Env) -> None:
    assert env.get("/me", "nasa_viewer").json() == {"name": "nasa_viewer", "agency": "NASA",
                                                    "role": "viewer"}
    assets = {(a["name"], a["kind"], a["agency"]) for a in env.get("/assets", "asi_planner").json()}
    assert assets == {("TGO", "orbiter", "ESA"), ("MRO", "orbiter", "NASA"),
                      ("Rosalind Franklin", "lander", "ESA"), ("Sample Lander", "lander", "NASA"),
                      ("DSS-43", "station", "NASA")}


def test_overflights_are_time_ordered_and_filtered_by_overlap(env: Env) -> None:
    ovs = env.overflights()
    assert ovs and [o["start_utc"] for o in ovs] == sorted(o["start_utc"] for o in ovs)
    assert {o["trajectory_version"] for o in ovs} == {1}
    ref = ovs[3]
    # [start, end) selects records overlapping it: an overflight ending exactly at start is out
    hits = env.overflights(start=ref["end_utc"])
    assert ref["id"] not in [o["id"] for o in hits]
    hits = env.overflights(end=ref["start_utc"])
    assert ref["id"] not in [o["id"] for o in hits]
    hits = env.overflights(start=ref["start_utc"], end=ref["end_utc"])
    assert ref["id"] in [o["id"] for o in hits]
    assert all(o["orbiter"] == "TGO" for o in env.overflights(orbiter="TGO"))
    assert env.overflights(orbiter="nope") == []
    assert env.get("/overflights?start=yesterday", "admin").status_code == 422


# -- the state machine -----------------------------------------------------------------------

#: (path, body builder, user) of every action; the user is the one allowed to do it.
ACTIONS = {
    "acknowledge": (lambda v: {"version": v}, "nasa_planner"),
    "reject": (lambda v: {"version": v, "reason": "MRO in safe mode"}, "nasa_planner"),
    "cancel": (lambda v: {"version": v}, "esa_planner"),
    "result": (lambda v: {"version": v, "returned_bits": 5, "forward_delivered": True},
               "nasa_planner"),
}
#: state -> {action: state after}, every other action -> 409.
MACHINE = {
    "requested": {"acknowledge": "acknowledged", "reject": "rejected", "cancel": "cancelled"},
    "acknowledged": {"result": "implemented", "cancel": "cancelled"},
    "rejected": {}, "cancelled": {}, "implemented": {},
}
#: how to bring a new request into each state
PATHS = {"requested": [], "acknowledged": ["acknowledge"], "rejected": ["reject"],
         "cancelled": ["cancel"], "implemented": ["acknowledge", "result"]}


@pytest.mark.parametrize("state", list(MACHINE))
def test_state_machine(env: Env, state: str) -> None:
    for k, action in enumerate(ACTIONS):
        req = _mro_request(env, k=k)
        for step in PATHS[state]:
            make, user = ACTIONS[step]
            r = env.post(f"/requests/{req['id']}/{step}", user, make(req["version"]))
            assert r.status_code == 200, r.text
            req = r.json()
        assert req["state"] == state
        make, user = ACTIONS[action]
        r = env.post(f"/requests/{req['id']}/{action}", user, make(req["version"]))
        if action in MACHINE[state]:
            assert r.status_code == 200, (state, action, r.text)
            out = r.json()
            assert out["state"] == MACHINE[state][action]
            assert out["version"] == req["version"] + 1
            assert out == env.get(f"/requests/{req['id']}", "admin").json()
        else:
            assert r.status_code == 409, (state, action, r.text)
            assert env.get(f"/requests/{req['id']}", "admin").json() == req


def test_versions_events_and_audit(env: Env) -> None:
    req = _mro_request(env)
    assert req["version"] == 1 and req["state"] == "requested"
    stale = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 7})
    assert stale.status_code == 409
    ack = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1}).json()
    again = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1})
    assert again.status_code == 409
    res = env.post(f"/requests/{req['id']}/result", "nasa_planner",
                   {"version": 2, "returned_bits": 123, "forward_delivered": False}).json()
    assert (ack["version"], res["version"]) == (2, 3)
    assert (res["returned_bits"], res["forward_delivered"]) == (123, False)
    events = [e for e in env.get("/events", "esa_viewer").json() if e["request_id"] == req["id"]]
    assert [(e["kind"], e["state"]) for e in events] == [
        ("created", "requested"), ("acknowledged", "acknowledged"),
        ("implemented", "implemented")]
    ids = [e["id"] for e in env.get("/events", "admin").json()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    after = env.get(f"/events?after={events[0]['id']}", "esa_viewer").json()
    assert events[0]["id"] not in [e["id"] for e in after]
    assert len(env.get("/events?limit=1", "admin").json()) == 1
    audit = [a for a in env.get("/audit", "admin").json()
             if a["entity"] == "request" and a["entity_id"] == str(req["id"])]
    assert [a["action"] for a in audit] == ["created", "acknowledged", "implemented"]
    assert audit[1]["before"]["state"] == "requested"
    assert audit[1]["after"]["state"] == "acknowledged"
    assert all(a["actor"] in ("esa_planner", "nasa_planner") for a in audit)
    # the audit log is for admins, and nothing writes it through the API
    assert env.get("/audit", "nasa_planner").status_code == 403
    for method in ("post", "put", "patch", "delete"):
        r = getattr(env.client, method)("/api/v1/audit", headers=env.h("admin"))
        assert r.status_code == 405


# -- status order: 401, 404, 403, 422, 409 --------------------------------------------------


def test_status_order(env: Env) -> None:
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    # 404 inside a body comes before 403 and 422
    r = env.post("/requests", "nasa_viewer", {"overflight_id": 99999, "return_bits": -1})
    assert r.status_code == 404
    # 403 before 422: a NASA planner may not ask for an ESA lander's pass, whatever the body
    r = env.post("/requests", "nasa_planner", {"overflight_id": ov["id"], "return_bits": -1})
    assert r.status_code == 403
    r = env.post("/requests", "esa_viewer", {"overflight_id": ov["id"]})
    assert r.status_code == 403
    # then 422, naming the field
    r = env.post("/requests", "esa_planner", {"overflight_id": ov["id"], "return_bits": -1})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "return_bits"]
    req = _mro_request(env)
    # not visible -> 404 even with a body that would be 422 or 409
    assert env.post(f"/requests/{req['id']}/acknowledge", "asi_planner",
                    {"version": "x"}).status_code == 404
    # visible but forbidden -> 403 before 422
    assert env.post(f"/requests/{req['id']}/acknowledge", "esa_planner",
                    {"version": "x"}).status_code == 403
    # allowed, bad body -> 422 before the stale version's 409
    r = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": "1"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "version"]
    assert env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner",
                    {"version": 2}).status_code == 409
    assert env.post("/requests/424242/cancel", "esa_planner", {"version": 1}).status_code == 404
    assert env.get("/requests/abc", "admin").status_code == 404


# -- visibility --------------------------------------------------------------------------------


def test_requests_are_visible_to_the_two_agencies_and_admins_only(env: Env) -> None:
    mro = _mro_request(env)                    # ESA lander, NASA orbiter
    tgo_ov = env.overflights(orbiter="TGO", lander="Rosalind Franklin")[0]
    tgo = env.create("esa_planner", tgo_ov["id"])  # ESA lander, ESA orbiter
    for user, seen in (("esa_viewer", {mro["id"], tgo["id"]}), ("nasa_viewer", {mro["id"]}),
                       ("asi_planner", set()), ("admin", {mro["id"], tgo["id"]})):
        listed = {r["id"] for r in env.get("/requests", user).json()}
        assert listed == seen, user
        for rid in (mro["id"], tgo["id"]):
            code = env.get(f"/requests/{rid}", user).status_code
            assert code == (200 if rid in seen else 404), (user, rid)
        events = {e["request_id"] for e in env.get("/events", user).json()} - {None}
        assert events == seen, user
    listed = env.get("/requests?state=requested&orbiter=TGO", "admin").json()
    assert [r["id"] for r in listed] == [tgo["id"]]
    assert env.get("/requests?state=flying", "admin").status_code == 422


# -- windows, conflicts, split passes, busy ---------------------------------------------------


def test_window_must_lie_inside_the_overflight(env: Env) -> None:
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    base = {"overflight_id": ov["id"], "return_bits": 1}
    r = env.post("/requests", "esa_planner", {**base, "start_utc": "2030-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "start_utc"]
    r = env.post("/requests", "esa_planner", {**base, "end_utc": "2031-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "end_utc"]
    r = env.post("/requests", "esa_planner", {**base, "start_utc": ov["end_utc"]})
    assert r.status_code == 422
    # the whole overflight is allowed (ov.start <= start < end <= ov.end)
    r = env.post("/requests", "esa_planner",
                 {**base, "start_utc": ov["start_utc"], "end_utc": ov["end_utc"]})
    assert r.status_code == 201
    assert (r.json()["start_utc"], r.json()["end_utc"]) == (ov["start_utc"], ov["end_utc"])
    assert r.json()["predicted_bits"] == ov["predicted_bits"]


def test_conflicts_splits_and_busy(env: Env) -> None:
    esa_ov, nasa_ov = env.shared_overflights("TGO")
    a = env.create("esa_planner", esa_ov["id"])
    b = env.create("nasa_planner", nasa_ov["id"])
    conflicts = env.get("/conflicts", "esa_viewer").json()
    assert [c["request_ids"] for c in conflicts] == [[a["id"], b["id"]]]
    c = conflicts[0]
    assert c["orbiter"] == "TGO"
    assert c["overlap_start_utc"] == max(a["start_utc"], b["start_utc"])
    assert c["overlap_end_utc"] == min(a["end_utc"], b["end_utc"])
    # NASA (lander agency of b) sees the pair too, but a's details stay hidden
    assert [c["request_ids"] for c in env.get("/conflicts", "nasa_viewer").json()] == [
        [a["id"], b["id"]]]
    assert env.get(f"/requests/{a['id']}", "nasa_viewer").status_code == 404
    assert env.get("/conflicts", "asi_planner").json() == []
    # acknowledging the first works, the second overlaps it: 409
    assert env.post(f"/requests/{a['id']}/acknowledge", "esa_planner",
                    {"version": 1}).status_code == 200
    r = env.post(f"/requests/{b['id']}/acknowledge", "esa_planner", {"version": 1})
    assert r.status_code == 409
    busy = env.get("/busy?orbiter=TGO", "asi_planner").json()
    assert busy == [{"orbiter": "TGO", "start_utc": a["start_utc"], "end_utc": a["end_utc"]}]
    # split windows that only touch are no conflict: cancel both, ask for two halves
    env.post(f"/requests/{a['id']}/cancel", "esa_planner", {"version": 2})
    env.post(f"/requests/{b['id']}/cancel", "nasa_planner", {"version": 1})
    lo = max(esa_ov["start_utc"], nasa_ov["start_utc"])
    hi = min(esa_ov["end_utc"], nasa_ov["end_utc"])
    split = _midpoint(lo, hi)
    first = env.create("esa_planner", esa_ov["id"], start_utc=lo, end_utc=split)
    second = env.create("nasa_planner", nasa_ov["id"], start_utc=split, end_utc=hi)
    assert env.get("/conflicts?orbiter=TGO", "admin").json() == []
    for req in (first, second):
        r = env.post(f"/requests/{req['id']}/acknowledge", "esa_planner", {"version": 1})
        assert r.status_code == 200, r.text
    assert [(x["start_utc"], x["end_utc"]) for x in env.get("/busy?orbiter=TGO", "nasa_viewer")
            .json()] == [(lo, split), (split, hi)]


def _midpoint(a: str, b: str) -> str:
    from marsrelay.service.timefmt import format_ms, parse_ms

    return format_ms((parse_ms(a) + parse_ms(b)) // 2)


def test_acknowledge_may_grant_part_of_the_window(env: Env) -> None:
    req = _mro_request(env)
    split = _midpoint(req["start_utc"], req["end_utc"])
    r = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner",
                 {"version": 1, "start_utc": split})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["start_utc"], out["end_utc"]) == (split, req["end_utc"])
    assert (out["requested_start_utc"], out["requested_end_utc"]) == (req["start_utc"],
                                                                      req["end_utc"])
    assert 0 < out["predicted_bits"] < req["predicted_bits"]


def test_plan_proposes_a_split_and_changes_nothing(env: Env) -> None:
    esa_ov, nasa_ov = env.shared_overflights("TGO")
    need_bits = min(esa_ov["predicted_bits"], nasa_ov["predicted_bits"]) // 3
    a = env.create("esa_planner", esa_ov["id"], return_bits=need_bits)
    b = env.create("nasa_planner", nasa_ov["id"], return_bits=need_bits, priority=1)
    before = env.snapshot()
    r = env.post("/plan", "esa_viewer", {"orbiter": "TGO"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert env.snapshot() == before
    assert plan["status"] == "optimal" and plan["elapsed_ms"] > 0
    items = {i["request_id"]: i for i in plan["items"]}
    assert items[a["id"]]["acknowledge"] and items[b["id"]]["acknowledge"]
    assert items[a["id"]]["split"] or items[b["id"]]["split"]
    # both fully served, windows disjoint
    assert items[a["id"]]["planned_bits"] == need_bits == items[b["id"]]["planned_bits"]
    wa = (items[a["id"]]["start_utc"], items[a["id"]]["end_utc"])
    wb = (items[b["id"]]["start_utc"], items[b["id"]]["end_utc"])
    assert wa[1] <= wb[0] or wb[1] <= wa[0]
    # acknowledging as proposed works for both
    for rid, (s, e) in ((a["id"], wa), (b["id"], wb)):
        r = env.post(f"/requests/{rid}/acknowledge", "esa_planner",
                     {"version": 1, "start_utc": s, "end_utc": e})
        assert r.status_code == 200, r.text
    assert env.post("/plan", "nasa_viewer", {"orbiter": "TGO"}).status_code == 403
    assert env.post("/plan", "nasa_viewer", {"orbiter": "Nope"}).status_code == 404
    assert env.post("/plan", "esa_viewer", {"orbiter": "TGO", "start_utc": 5}).status_code == 422


# -- results and accounting --------------------------------------------------------------------


def test_accounting(env: Env) -> None:
    req = _mro_request(env)
    env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1})
    env.post(f"/requests/{req['id']}/result", "nasa_planner",
             {"version": 2, "returned_bits": 4_000_000, "forward_delivered": True})
    other = _mro_request(env)  # stays requested: not counted
    assert other["state"] == "requested"
    from marsrelay.service.timefmt import parse_ms

    relay_s = (parse_ms(req["end_utc"]) - parse_ms(req["start_utc"])) / 1000.0
    row = {"provider_agency": "NASA", "user_agency": "ESA", "passes": 1, "relay_s": relay_s,
           "predicted_bits": req["predicted_bits"], "returned_bits": 4_000_000}
    assert env.get("/accounting", "esa_viewer").json() == [row]
    assert env.get("/accounting", "nasa_viewer").json() == [row]
    assert env.get("/accounting", "asi_planner").json() == []
    assert env.get("/accounting", "admin").json() == [row]
    assert env.get(f"/accounting?start={req['end_utc']}", "admin").json() == []
    assert env.get(f"/accounting?end={req['end_utc']}", "admin").json() == [row]


# -- files -------------------------------------------------------------------------------------


def test_forward_files(env: Env) -> None:
    req = _mro_request(env)
    data = bytes(range(256)) * 100
    digest = hashlib.sha256(data).hexdigest()
    up = env.post(f"/requests/{req['id']}/files", "esa_planner",
                  files={"file": ("cmds.bin", data, "application/octet-stream")},
                  data={"sha256": digest})
    assert up.status_code == 201, up.text
    meta = up.json()
    assert (meta["sha256"], meta["size"]) == (digest, len(data))
    down = env.get(f"/requests/{req['id']}/files/{meta['id']}", "nasa_viewer")
    assert down.status_code == 200 and down.content == data
    assert down.headers["x-checksum-sha256"] == digest
    assert env.get(f"/requests/{req['id']}/files/{meta['id']}", "asi_planner").status_code == 404
    assert env.get(f"/requests/{req['id']}/files/999", "nasa_viewer").status_code == 404
    bad = env.post(f"/requests/{req['id']}/files", "esa_planner",
                   files={"file": ("x", b"abc", "text/plain")}, data={"sha256": "0" * 64})
    assert bad.status_code == 422
    assert env.post(f"/requests/{req['id']}/files", "nasa_planner",
                    files={"file": ("x", b"abc", "text/plain")}).status_code == 403
    assert env.post(f"/requests/{req['id']}/files", "esa_planner",
                    data={"nothing": "here"}).status_code == 422
    assert [f["id"] for f in env.get(f"/requests/{req['id']}/files", "esa_viewer").json()] == [
        meta["id"]]


def test_file_size_limit(env: Env) -> None:
    small = make_env(env.backend, env.url, env.tokens, max_file_bytes=1000)
    try:
        req = _mro_request(small)
        r = small.post(f"/requests/{req['id']}/files", "esa_planner",
                       files={"file": ("big", b"x" * 1001, "application/octet-stream")})
        assert r.status_code == 413 and "1000" in r.json()["detail"]
        r = small.post(f"/requests/{req['id']}/files", "esa_planner",
                       files={"file": ("ok", b"x" * 1000, "application/octet-stream")})
        assert r.status_code == 201
        huge = small.post(f"/requests/{req['id']}/files", "esa_planner",
                          files={"file": ("huge", b"x" * 200_000, "application/octet-stream")})
        assert huge.status_code == 413
        body = small.post("/requests", "esa_planner", content=b"[" + b"1," * 600_000 + b"1]",
                          headers={"content-type": "application/json"})
        assert body.status_code == 413
    finally:
        small.close()


# -- SSF export --------------------------------------------------------------------------------


def test_ssf_export(env: Env) -> None:
    req = _mro_request(env, forward_bits=1000)
    env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1})
    _mro_request(env)  # requested only: not exported
    r = env.get("/export/ssf?orbiter=MRO", "esa_viewer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    ns = {"s": "urn:ccsds:schema:cssm:1.0.0"}
    root = ET.fromstring(r.content)
    assert root.tag == "{urn:ccsds:schema:cssm:1.0.0}simpleSchedule"
    acts = root.findall("s:scheduledPackage/s:scheduledActivity", ns)
    assert [(a.get("beginningOfTrack"), a.get("endOfTrack")) for a in acts] == [
        (req["start_utc"], req["end_utc"])]
    assert root.find("s:simpleScheduleHeader", ns) is not None
    assert ET.fromstring(env.get("/export/ssf", "asi_planner").content).findall(
        "s:scheduledPackage", ns) == []
