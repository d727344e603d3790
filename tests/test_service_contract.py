"""The relay coordination service against its contract, as an independent client sees it.

Every test drives a real `marsrelay serve` subprocess on 127.0.0.1 over HTTP (httpx), set up
only through the documented CLI (`service init`, `service add-user`, `service backup`), on a
small scenario written here: two orbiters (TGO of ESA, MRO of NASA), two landers of those
agencies close enough to share passes (Rosalind Franklin at Oxia Planum; a hypothetical NASA
lander at Mawrth Vallis, about 400 km away, so split passes and cross-agency conflicts exist),
and a station of a third agency (JAXA's Usuda), whose users own nothing.
Nothing is imported from `marsrelay.service`: the assertions come from the contract text
(docs of the service: the "REST contract" and "Precise rules"), never from the code's output.

One server serves the whole module (windows handed out by ``Slots`` so that tests never meet by
accident); a second one serves the backup copy and takes the trajectory tests (they move the
overflights) and the SIGTERM test. This file is longer than 500 lines because it mirrors the
contract sentence by sentence; the harness lives in ``helpers/blackbox_service.py``.

Where the contract reads two ways the most literal reading is tested and the test says so.
"""

from __future__ import annotations

import hashlib
import math
import re
import signal
import sqlite3
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers.blackbox_service import (
    ISO_MS,
    Api,
    Server,
    Slots,
    clean_env,
    iso,
    run_cli,
    start_cli,
    start_server,
    to_ms,
    token_of,
)

pytestmark = pytest.mark.slow

RF, MAWRTH = "Rosalind Franklin", "Mawrth"
SCENARIO = """\
[scenario]
name = "contract-audit"
description = "service contract test: ESA and NASA orbiters and landers, a JAXA station"
start = "2030-11-01T00:00:00Z"
end = "2030-11-04T00:00:00Z"

[[orbiter]]
name = "TGO"
agency = "ESA"
[orbiter.elements]
epoch = "2030-11-01T00:00:00Z"
a_km = 3796.19
e = 0.0
i_deg = 74.0
raan_deg = 0.0
argp_deg = 0.0
mean_anomaly_deg = 0.0

[[orbiter]]
name = "MRO"
agency = "NASA"
[orbiter.elements]                    # node chosen so that MRO and TGO sometimes pass together
epoch = "2030-11-01T00:00:00Z"
a_km = 3683.0
e = 0.01
i_deg = 92.6
raan_deg = 160.0
argp_deg = 270.0
mean_anomaly_deg = 30.0

[[lander]]
name = "Rosalind Franklin"
agency = "ESA"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0

[[lander]]
name = "Mawrth"
agency = "NASA"
lat_deg = 24.0
lon_east_deg = 341.0
height_km = -2.0
elevation_mask_deg = 10.0

[[station]]
name = "Usuda"
agency = "JAXA"
lat_deg = 36.133
lon_east_deg = 138.362
height_m = 1456.0
elevation_mask_deg = 10.0
dish_m = 64.0
"""
#: TGO's elements as above (the trajectory tests publish them again, then moved).
TGO_ELEMENTS = {"epoch": "2030-11-01T00:00:00Z", "a_km": 3796.19, "e": 0.0, "i_deg": 74.0,
                "raan_deg": 0.0, "argp_deg": 0.0, "mean_anomaly_deg": 0.0}
ASSETS = {("TGO", "orbiter", "ESA"), ("MRO", "orbiter", "NASA"), (RF, "lander", "ESA"),
          (MAWRTH, "lander", "NASA"), ("Usuda", "station", "JAXA")}
AGENCY = {"TGO": "ESA", "MRO": "NASA", RF: "ESA", MAWRTH: "NASA"}
#: user -> (agency, role); "admin" also gets a web-page password (--password-stdin).
USERS = {"esa": ("ESA", "planner"), "esa_viewer": ("ESA", "viewer"),
         "nasa": ("NASA", "planner"), "jaxa": ("JAXA", "planner"), "admin": ("JAXA", "admin")}
ADMIN_PASSWORD = "correct horse battery staple 42"
STATES = {"requested", "acknowledged", "rejected", "cancelled", "implemented", "stale"}
KINDS = {"created", "acknowledged", "rejected", "cancelled", "implemented", "stale", "trajectory"}
REQUEST_KEYS = {"id", "version", "state", "lander", "orbiter", "overflight_id", "start_utc",
                "end_utc", "return_bits", "forward_bits", "priority", "returned_bits"}
#: Mars GM, km^3/s^2: NAIF gm_de440.tpc BODY499_GM (as cited in the project's facts).
GM_MARS_KM3_S2 = 42828.37362


@dataclass
class Net:
    """The module's server and everything a client knows about it."""

    server: Server
    tmp: Path
    scenario: Path
    db_url: str
    db_path: Path
    tokens: dict[str, str]
    api: dict[str, Api]
    anon: Api
    overflights: list[dict[str, Any]]
    slots: Slots
    bad_role: tuple[int, str]  # add-user with --role god: exit status, output

    def ov(self, ov_id: int) -> dict[str, Any]:
        return next(o for o in self.overflights if o["id"] == ov_id)


def _add_users(tmp: Path, db_url: str) -> dict[str, subprocess.Popen[str]]:
    """add-user for every user, side by side; ``esa_viewer`` names its database through
    MARSRELAY_DB instead of ``--db`` (the contract: "`--db` also reads `MARSRELAY_DB`")."""
    procs = {}
    for name, (agency, role) in USERS.items():
        args = ["service", "add-user", name, "--agency", agency, "--role", role]
        env = clean_env(MARSRELAY_DB=db_url) if name == "esa_viewer" else None
        if name != "esa_viewer":
            args += ["--db", db_url]
        stdin = None
        if name == "admin":
            args.append("--password-stdin")
            stdin = ADMIN_PASSWORD + "\n"
        procs[name] = start_cli(args, tmp, env=env, stdin=stdin)
    return procs


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    tmp = tmp_path_factory.mktemp("contract")
    scenario = tmp / "contract-audit.toml"
    scenario.write_text(SCENARIO)
    # No --db and no MARSRELAY_DB: the default sqlite:///marsrelay.db, in the working folder.
    done = run_cli(["service", "init", str(scenario)], tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    db_path = tmp / "marsrelay.db"
    assert db_path.exists(), "init without --db must create ./marsrelay.db"
    db_url = f"sqlite:///{db_path}"
    # add-user runs while the server starts (a user added to a running service can log in)
    procs = _add_users(tmp, db_url)
    bad_role = start_cli(["service", "add-user", "mallory", "--agency", "ESA", "--role",
                          "god", "--db", db_url], tmp)
    server = start_server(db_url, tmp)
    tokens = {name: token_of(proc) for name, proc in procs.items()}
    assert bad_role.stdout is not None and bad_role.stderr is not None
    bad_role_output = bad_role.stdout.read() + bad_role.stderr.read()
    bad_role_status = bad_role.wait(timeout=300)
    api = {name: Api(server, token) for name, token in tokens.items()}
    overflights = api["admin"].ok("GET", "/overflights")
    result = Net(server, tmp, scenario, db_url, db_path, tokens, api, Api(server, None),
                 overflights, Slots(overflights), (bad_role_status, bad_role_output))
    yield result
    if server.proc.poll() is None:
        server.stop(signal.SIGINT)


# ---------------------------------------------------------------- helpers of the client side


def check_request(req: dict[str, Any]) -> None:
    """The fields and types `GET /requests/{id}` promises."""
    assert set(req) >= REQUEST_KEYS, f"missing {REQUEST_KEYS - set(req)}"
    for key in ("id", "version", "overflight_id", "return_bits", "forward_bits", "priority"):
        assert type(req[key]) is int, f"{key} is not an integer: {req[key]!r}"
    assert req["state"] in STATES
    assert to_ms(req["start_utc"]) < to_ms(req["end_utc"])
    assert req["return_bits"] >= 0 and req["forward_bits"] >= 0 and 1 <= req["priority"] <= 5
    assert type(req["returned_bits"]) is int and req["returned_bits"] >= 0
    assert type(req.get("forward_delivered", False)) is bool


def create(api: Api, ov: dict[str, Any], start: int | None = None, end: int | None = None,
           **body: Any) -> dict[str, Any]:
    """POST /requests (201) and check the answer is the request as GET shows it."""
    payload: dict[str, Any] = {"overflight_id": ov["id"], "return_bits": 10_000_000, **body}
    if start is not None:
        payload["start_utc"] = iso(start)
    if end is not None:
        payload["end_utc"] = iso(end)
    req = api.ok("POST", "/requests", 201, json=payload)
    check_request(req)
    assert req["version"] == 1 and req["state"] == "requested"
    assert api.ok("GET", f"/requests/{req['id']}") == req
    return req


ACTION_BODY: dict[str, dict[str, Any]] = {
    "acknowledge": {}, "reject": {"reason": "the orbiter is busy"}, "cancel": {},
    "result": {"returned_bits": 123_456_789, "forward_delivered": True},
}
NEXT_STATE = {"acknowledge": "acknowledged", "reject": "rejected", "cancel": "cancelled",
              "result": "implemented"}


def act(api: Api, req: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    """An allowed action: 200, version +1, the new state, the answer equal to GET."""
    payload = {"version": req["version"], **ACTION_BODY[action], **body}
    after = api.ok("POST", f"/requests/{req['id']}/{action}", json=payload)
    check_request(after)
    assert after["version"] == req["version"] + 1
    assert after["state"] == NEXT_STATE[action]
    assert api.ok("GET", f"/requests/{req['id']}") == after, "an action answers GET's request"
    return after


def refused(api: Api, req: dict[str, Any], action: str, status: int,
            body: dict[str, Any] | None = None) -> None:
    """An action answered ``status``; the request (if the caller sees it) did not change."""
    payload = body if body is not None else {"version": req["version"], **ACTION_BODY[action]}
    response = api.post(f"/requests/{req['id']}/{action}", json=payload)
    assert response.status_code == status, (
        f"{action} on {req['state']} -> {response.status_code}, expected {status}: "
        f"{response.text[:300]}")
    if status != 404:
        assert api.ok("GET", f"/requests/{req['id']}") == req, "a refused action changes nothing"


def events(api: Api, **params: Any) -> list[dict[str, Any]]:
    return api.ok("GET", "/events", params={"after": 0, **params})


def kinds_of(api: Api, request_id: int) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["state"]) for e in events(api) if e["request_id"] == request_id]


def get_status(api: Api, path: str, **kwargs: Any) -> int:
    return api.get(path, **kwargs).status_code


# ------------------------------------------------------------------------------- CLI, auth


def test_health_is_open_and_ok(net: Net) -> None:
    assert net.anon.ok("GET", "/health") == {"status": "ok"}


AUTH_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/me", {}), ("GET", "/assets", {}), ("GET", "/overflights", {}),
    ("POST", "/requests", {"json": {"overflight_id": 10**9, "return_bits": -1}}),
    ("GET", "/requests", {}), ("GET", "/requests/999999", {}),
    ("POST", "/requests/999999/acknowledge", {"json": {"version": 1}}),
    ("POST", "/requests/999999/reject", {"json": {"version": 1, "reason": "x"}}),
    ("POST", "/requests/999999/cancel", {"json": {"version": 1}}),
    ("POST", "/requests/999999/result",
     {"json": {"version": 1, "returned_bits": 1, "forward_delivered": True}}),
    ("POST", "/requests/999999/files", {"files": {"file": ("a.bin", b"abc")}}),
    ("GET", "/requests/999999/files/999999", {}), ("GET", "/conflicts", {}),
    ("GET", "/busy", {"params": {"orbiter": "TGO"}}),
    ("POST", "/plan", {"json": {"orbiter": "TGO"}}), ("GET", "/accounting", {}),
    ("GET", "/events", {"params": {"after": 0}}),
    ("PUT", "/orbiters/TGO/trajectory", {"json": {"a_km": 1.0, "i_deg": 500.0}}),
    ("GET", "/export/ssf", {"params": {"orbiter": "TGO"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), AUTH_CALLS,
                         ids=[f"{m} {p}" for m, p, _ in AUTH_CALLS])
def test_every_call_but_health_needs_a_valid_bearer_token(
        net: Net, method: str, path: str, kwargs: dict[str, Any]) -> None:
    """No or bad token -> 401, never 403, and before any 404 or 422."""
    good = net.tokens["admin"]
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {good}x"}, {"Authorization": f"Basic {good}"},
                    {"Authorization": "Bearer"}, {"Authorization": good}):
        response = net.anon.call(method, path, headers=headers, **kwargs)
        assert response.status_code == 401, (headers, response.status_code, response.text[:200])


def test_me_names_the_user(net: Net) -> None:
    for name, (agency, role) in USERS.items():
        assert net.api[name].ok("GET", "/me") == {"name": name, "agency": agency, "role": role}


def test_tokens_are_random_256_bits_and_stored_only_as_hashes(net: Net) -> None:
    tokens = list(net.tokens.values())
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        alphabet = 16 if re.fullmatch(r"[0-9a-fA-F]+", token) else 64
        assert len(token) * math.log2(alphabet) >= 256, f"token shorter than 256 bits: {token}"
    stored = b"".join(p.read_bytes() for p in net.tmp.glob("marsrelay.db*"))
    for token in tokens:
        assert token.encode() not in stored, "a token is stored in clear"
    assert ADMIN_PASSWORD.encode() not in stored, "a password is stored in clear"
    assert b"$argon2id$" in stored, "web-page passwords are hashed with argon2id"


def test_add_user_refuses_a_role_other_than_admin_planner_viewer(net: Net) -> None:
    status, output = net.bad_role
    assert status != 0 and "Traceback" not in output, output


# --------------------------------------------------------------------- assets, overflights


def test_assets_are_the_scenarios_nodes_for_everyone(net: Net) -> None:
    for name in USERS:
        assets = net.api[name].ok("GET", "/assets")
        assert {(a["name"], a["kind"], a["agency"]) for a in assets} == ASSETS
        assert len(assets) == len(ASSETS)


def test_overflights_fields_order_and_visibility(net: Net) -> None:
    ovs = net.overflights
    assert {(o["orbiter"], o["lander"]) for o in ovs} == {
        (orb, lan) for orb in ("TGO", "MRO") for lan in (RF, MAWRTH)}
    for o in ovs:
        assert type(o["id"]) is int and type(o["predicted_bits"]) is int
        assert type(o["trajectory_version"]) is int and o["predicted_bits"] >= 0
        assert isinstance(o["max_elevation_deg"], int | float)
        assert 10.0 <= o["max_elevation_deg"] <= 90.0, "above the 10 deg mask"
        start, end = to_ms(o["start_utc"]), to_ms(o["end_utc"])
        assert to_ms("2030-11-01T00:00:00.000Z") <= start < end <= to_ms(
            "2030-11-04T00:00:00.000Z")
        assert end - start < 30 * 60_000, "a low orbiter's pass lasts minutes"
    starts = [to_ms(o["start_utc"]) for o in ovs]
    assert starts == sorted(starts), "/overflights is time-ordered"
    assert len({o["id"] for o in ovs}) == len(ovs)
    for name in USERS:  # the network is shared: every user sees every overflight
        assert net.api[name].ok("GET", "/overflights") == ovs


def test_overflight_filters_select_what_overlaps_the_half_open_range(net: Net) -> None:
    api, ovs = net.api["jaxa"], net.overflights
    assert api.ok("GET", "/overflights", params={"orbiter": "MRO"}) == [
        o for o in ovs if o["orbiter"] == "MRO"]
    assert api.ok("GET", "/overflights", params={"lander": MAWRTH, "orbiter": "TGO"}) == [
        o for o in ovs if o["lander"] == MAWRTH and o["orbiter"] == "TGO"]
    ov = ovs[len(ovs) // 2]
    s, e = to_ms(ov["start_utc"]), to_ms(ov["end_utc"])

    def ids(start: int | None, end: int | None) -> set[int]:
        params = {"orbiter": ov["orbiter"], "lander": ov["lander"]}
        if start is not None:
            params["start"] = iso(start)
        if end is not None:
            params["end"] = iso(end)
        return {o["id"] for o in api.ok("GET", "/overflights", params=params)}

    assert ov["id"] not in ids(e, e + 3_600_000), "an overflight ending at start: no overlap"
    assert ov["id"] not in ids(s - 3_600_000, s), "an overflight starting at end: no overlap"
    assert ov["id"] in ids(e - 1, e + 3_600_000)
    assert ov["id"] in ids(s - 3_600_000, s + 1)
    assert ov["id"] in ids(s + 1, s + 2), "a range inside the overflight overlaps it"
    assert ov["id"] in ids(None, s + 1) and ov["id"] not in ids(None, s)
    assert ov["id"] in ids(e - 1, None) and ov["id"] not in ids(e, None)
    expected = {o["id"] for o in ovs if o["orbiter"] == ov["orbiter"]
                and o["lander"] == ov["lander"] and to_ms(o["end_utc"]) > s - 1
                and to_ms(o["start_utc"]) < e + 1}
    assert ids(s - 1, e + 1) == expected


def test_lists_are_paged_only_when_limit_is_given(net: Net) -> None:
    """Literal reading of "Lists are not paged unless `limit` is given": `limit` pages
    /overflights and /requests too (their first items in their order)."""
    api = net.api["admin"]
    assert api.ok("GET", "/overflights", params={"limit": 3}) == net.overflights[:3]
    ov, s, e = net.slots.part("MRO", MAWRTH, 20_000)
    create(net.api["nasa"], ov, s, s + 10_000)
    create(net.api["nasa"], ov, s + 10_000, e)
    everything = api.ok("GET", "/requests")
    assert len(everything) >= 2
    assert api.ok("GET", "/requests", params={"limit": 1}) == everything[:1]


# ------------------------------------------------------------------ creating requests, windows


def test_create_defaults_to_the_whole_overflight(net: Net) -> None:
    ov = net.slots.whole("TGO", MAWRTH)
    before = events(net.api["admin"])
    req = create(net.api["nasa"], ov, note="first light")
    assert (req["start_utc"], req["end_utc"]) == (ov["start_utc"], ov["end_utc"])
    assert (req["forward_bits"], req["priority"], req["return_bits"]) == (0, 3, 10_000_000)
    assert (req["lander"], req["orbiter"], req["overflight_id"]) == (MAWRTH, "TGO", ov["id"])
    new = [e for e in events(net.api["admin"]) if e["id"] > (before[-1]["id"] if before else 0)]
    assert [(e["kind"], e["request_id"], e["state"]) for e in new] == [
        ("created", req["id"], "requested")], "creation is an event"
    act(net.api["nasa"], req, "cancel")


def test_only_start_given_ends_with_the_overflight(net: Net) -> None:
    """Literal reading: the window defaults to the whole overflight, field by field."""
    ov = net.slots.whole("MRO", RF)
    s = to_ms(ov["start_utc"]) + 60_000
    req = create(net.api["esa"], ov, start=s)
    assert (req["start_utc"], req["end_utc"]) == (iso(s), ov["end_utc"])
    act(net.api["esa"], req, "cancel")


def test_only_end_given_starts_with_the_overflight(net: Net) -> None:
    ov = net.slots.whole("MRO", MAWRTH)
    e = to_ms(ov["end_utc"]) - 60_000
    req = create(net.api["nasa"], ov, end=e)
    assert (req["start_utc"], req["end_utc"]) == (ov["start_utc"], iso(e))
    act(net.api["nasa"], req, "cancel")


def test_input_times_without_milliseconds_are_accepted(net: Net) -> None:
    """Inputs are "UTC ISO 8601 with Z": whole seconds are as valid as milliseconds; the
    answer carries milliseconds."""
    ov, s, _ = net.slots.part("MRO", RF, 20_000)
    start = (s // 1000 + 1) * 1000
    text = iso(start)[:-5] + "Z"
    req = create(net.api["esa"], ov, start_utc=text, end_utc=iso(start + 10_000)[:-5] + "Z")
    assert (req["start_utc"], req["end_utc"]) == (iso(start), iso(start + 10_000))
    act(net.api["esa"], req, "cancel")


@pytest.fixture(scope="module")
def scratch_ov(net: Net) -> dict[str, Any]:
    """An overflight for bodies that must be refused (and short-lived windows): no test
    looks at conflicts or busy time in it."""
    return net.slots.whole("TGO", RF)


@pytest.mark.parametrize(("start_off", "end_off", "ok"), [
    (0, 0, True),            # the whole overflight, given explicitly
    (0, None, True),         # 1 ms at its start: ov.start <= start
    (None, 0, True),         # 1 ms at its end: end <= ov.end
    (-1, 0, False),          # starts 1 ms early
    (0, 1, False),           # ends 1 ms late
    (None, 1, False),        # starts at ov.end (start < end <= ov.end fails)
    ("same", None, False),   # empty window, start == end
    ("backwards", None, False),
])
def test_the_window_must_lie_inside_the_overflight(
        net: Net, scratch_ov: dict[str, Any], start_off: Any, end_off: Any, ok: bool) -> None:
    """``ov.start <= start < end <= ov.end`` at millisecond precision."""
    ov = scratch_ov
    s, e = to_ms(ov["start_utc"]), to_ms(ov["end_utc"])
    if start_off == "same":
        start, end = s + 1000, s + 1000
    elif start_off == "backwards":
        start, end = s + 2000, s + 1000
    elif start_off is None:
        start, end = e - 1 + (end_off or 0), e + (end_off or 0)
    elif end_off is None:
        start, end = s + start_off, s + start_off + 1
    else:
        start, end = s + start_off, e + end_off
    body = {"overflight_id": ov["id"], "return_bits": 1000,
            "start_utc": iso(start), "end_utc": iso(end)}
    response = net.api["esa"].post("/requests", json=body)
    if ok:
        assert response.status_code == 201, response.text
        req = response.json()
        assert (req["start_utc"], req["end_utc"]) == (iso(start), iso(end))
        act(net.api["esa"], req, "cancel")
    else:
        assert response.status_code == 422, response.text
        assert "start_utc" in response.text or "end_utc" in response.text


CREATE_BAD = [
    ({"return_bits": 1}, "overflight_id"),
    ({"overflight_id": "OV"}, "overflight_id"),
    ({"ov": 0}, "return_bits"),
    ({"ov": 0, "return_bits": -1}, "return_bits"),
    ({"ov": 0, "return_bits": "lots"}, "return_bits"),
    ({"ov": 0, "return_bits": 1.5}, "return_bits"),
    ({"ov": 0, "return_bits": "5"}, "return_bits"),
    ({"ov": 0, "return_bits": True}, "return_bits"),
    ({"ov": 0, "return_bits": None}, "return_bits"),
    ({"ov": 0, "return_bits": 1, "forward_bits": -1}, "forward_bits"),
    ({"ov": 0, "return_bits": 1, "forward_bits": 2.5}, "forward_bits"),
    ({"ov": 0, "return_bits": 1, "forward_bits": "x"}, "forward_bits"),
    ({"ov": 0, "return_bits": 1, "priority": 0}, "priority"),
    ({"ov": 0, "return_bits": 1, "priority": 6}, "priority"),
    ({"ov": 0, "return_bits": 1, "priority": "high"}, "priority"),
    ({"ov": 0, "return_bits": 1, "priority": 2.5}, "priority"),
    ({"ov": 0, "return_bits": 1, "start_utc": "yesterday"}, "start_utc"),
    ({"ov": 0, "return_bits": 1, "end_utc": 12}, "end_utc"),
]


@pytest.mark.parametrize(("body", "field"), CREATE_BAD, ids=[f"{f}:{b}" for b, f in CREATE_BAD])
def test_a_bad_create_body_is_422_naming_the_field(
        net: Net, scratch_ov: dict[str, Any], body: dict[str, Any], field: str) -> None:
    ov = scratch_ov
    payload = {("overflight_id" if k == "ov" else k): (ov["id"] if k == "ov" else v)
               for k, v in body.items()}
    response = net.api["esa"].post("/requests", json=payload)
    assert response.status_code == 422, response.text
    assert field in response.text, f"422 does not name {field}: {response.text}"


def test_a_body_that_is_not_an_object_is_422(net: Net) -> None:
    api = net.api["esa"]
    assert api.post("/requests", content=b"{not json",
                    headers={"Content-Type": "application/json"}).status_code == 422
    assert api.post("/requests", json=[1, 2]).status_code == 422
    assert api.post("/requests").status_code == 422


def test_priorities_one_to_five_are_accepted(net: Net) -> None:
    ov, s, _ = net.slots.part("TGO", RF, 10_000)
    for p in (1, 5):
        req = create(net.api["esa"], ov, s + (p - 1) * 1000, s + p * 1000, priority=p,
                     forward_bits=0, return_bits=0)
        assert req["priority"] == p and req["return_bits"] == 0
        act(net.api["esa"], req, "cancel")


# --------------------------------------------------------------------- roles and status order


@pytest.fixture(scope="module")
def cross(net: Net) -> dict[str, Any]:
    """A NASA lander's request on ESA's orbiter (lander and orbiter of different agencies)."""
    ov, s, e = net.slots.part("TGO", MAWRTH, 60_000)
    return {"ov": ov, "req": create(net.api["nasa"], ov, s, e)}


@pytest.mark.parametrize(("user", "status"), [
    ("esa", 403), ("esa_viewer", 403), ("jaxa", 403), ("admin", 403)])
def test_only_a_planner_of_the_landers_agency_creates(net: Net, user: str, status: int) -> None:
    """Admins included: literally, creating is for "a planner of the lander's agency" and
    "anything else -> 403"."""
    ov, s, e = net.slots.part("TGO", MAWRTH, 10_000)
    body = {"overflight_id": ov["id"], "return_bits": 1, "start_utc": iso(s),
            "end_utc": iso(e)}
    response = net.api[user].post("/requests", json=body)
    assert response.status_code == status, response.text


@pytest.mark.parametrize("action", ["acknowledge", "reject", "cancel", "result"])
@pytest.mark.parametrize(("user", "status"), [
    ("esa_viewer", 403), ("admin", 403), ("jaxa", 404)])
def test_viewers_admins_and_strangers_cannot_act(
        net: Net, cross: dict[str, Any], action: str, user: str, status: int) -> None:
    req = cross["req"]
    refused(net.api[user], req, action, status)
    assert net.api["nasa"].ok("GET", f"/requests/{req['id']}") == req


def test_the_orbiter_agency_answers_and_the_lander_agency_cancels(net: Net) -> None:
    ov, s, _ = net.slots.part("TGO", MAWRTH, 20_000)
    a = create(net.api["nasa"], ov, s, s + 10_000)
    for action in ("acknowledge", "reject"):
        refused(net.api["nasa"], a, action, 403)   # NASA does not own TGO
    refused(net.api["esa"], a, "cancel", 403)       # ESA does not own Mawrth
    a = act(net.api["esa"], a, "acknowledge")
    refused(net.api["nasa"], a, "result", 403)
    refused(net.api["esa"], a, "cancel", 403)
    a = act(net.api["nasa"], a, "cancel")
    # and the other way round on NASA's MRO over ESA's lander
    ov2, s2, _ = net.slots.part("MRO", RF, 20_000)
    b = create(net.api["esa"], ov2, s2, s2 + 10_000)
    refused(net.api["esa"], b, "acknowledge", 403)
    b = act(net.api["nasa"], b, "acknowledge")
    refused(net.api["esa"], b, "result", 403)
    b = act(net.api["nasa"], b, "result", returned_bits=5, forward_delivered=False)
    assert b["returned_bits"] == 5


def test_status_order_404_then_403_then_422_then_409(net: Net, cross: dict[str, Any]) -> None:
    req = cross["req"]
    viewer, nasa, jaxa = net.api["esa_viewer"], net.api["nasa"], net.api["jaxa"]
    # 404 inside a body beats 403 and 422
    for api in (viewer, jaxa, net.api["esa"]):
        response = api.post("/requests", json={"overflight_id": 10**9, "return_bits": -1})
        assert response.status_code == 404, response.text
    # invisible beats forbidden and invalid
    for action in ("acknowledge", "cancel", "result", "reject"):
        assert jaxa.post(f"/requests/{req['id']}/{action}", json={}).status_code == 404
    assert jaxa.post(f"/requests/{req['id']}/files",
                     files={"file": ("x.bin", b"x")}).status_code == 404
    # 403 beats 422 (bad body) and 409 (stale version)
    ov = cross["ov"]
    assert viewer.post("/requests", json={"overflight_id": ov["id"],
                                          "return_bits": -1}).status_code == 403
    assert jaxa.post("/requests", json={"overflight_id": ov["id"]}).status_code == 403
    refused(nasa, req, "acknowledge", 403, {})
    refused(nasa, req, "acknowledge", 403, {"version": 99})
    refused(viewer, req, "cancel", 403, {"version": "one"})
    # 422 (bad body) before 409 (stale version or state): validation comes first
    refused(net.api["esa"], req, "acknowledge", 422, {"version": "one"})
    refused(net.api["esa"], req, "result", 422,
            {"version": req["version"], "returned_bits": -5, "forward_delivered": True})
    assert nasa.ok("GET", f"/requests/{req['id']}") == req


@pytest.mark.parametrize("path", [
    "/requests/999999", "/requests/0", "/requests/-1", "/requests/1000000000000",
    "/requests/999999/files/1"])
def test_unknown_ids_are_404(net: Net, path: str) -> None:
    assert get_status(net.api["admin"], path) == 404


def test_a_huge_unknown_id_is_not_a_500(net: Net) -> None:
    """An id past 64 bits does not exist (literal: 404); a 422 would also be defensible."""
    api = net.api["esa"]
    assert get_status(api, f"/requests/{2**64}") in (404, 422)
    response = api.post("/requests", json={"overflight_id": 2**64, "return_bits": 1})
    assert response.status_code in (404, 422)
    response = api.post(f"/requests/{2**64}/cancel", json={"version": 2**64})
    assert response.status_code in (404, 422)


# ----------------------------------------------------------------------- the state machine


@pytest.mark.parametrize("path", [
    ["acknowledge", "result"], ["reject"], ["cancel"], ["acknowledge", "cancel"]])
def test_allowed_transitions_bump_version_and_write_one_event_each(
        net: Net, path: list[str]) -> None:
    ov, s, e = net.slots.part("TGO", RF, 30_000)
    esa = net.api["esa"]
    req = create(esa, ov, s, e)
    for action in path:
        req = act(esa, req, action)
    assert req["version"] == 1 + len(path)
    expected = [("created", "requested")] + [(NEXT_STATE[a], NEXT_STATE[a]) for a in path]
    assert kinds_of(net.api["admin"], req["id"]) == expected
    if path == ["acknowledge", "result"]:
        assert req["returned_bits"] == ACTION_BODY["result"]["returned_bits"]
        assert req.get("forward_delivered", True) is True


def _request_in(net: Net, state: str) -> dict[str, Any]:
    ov, s, e = net.slots.part("TGO", RF, 10_000)
    esa = net.api["esa"]
    req = create(esa, ov, s, e)
    steps = {"requested": [], "acknowledged": ["acknowledge"], "rejected": ["reject"],
             "cancelled": ["cancel"], "implemented": ["acknowledge", "result"]}[state]
    for action in steps:
        req = act(esa, req, action)
    return req


DISALLOWED = [("requested", "result"), ("acknowledged", "acknowledge"),
              ("acknowledged", "reject")] + [
    (state, action) for state in ("rejected", "cancelled", "implemented")
    for action in ("acknowledge", "reject", "cancel", "result")]


@pytest.mark.parametrize(("state", "action"), DISALLOWED)
def test_a_transition_the_state_does_not_allow_is_409(net: Net, state: str, action: str) -> None:
    req = _request_in(net, state)
    before = kinds_of(net.api["admin"], req["id"])
    refused(net.api["esa"], req, action, 409)
    assert net.api["esa"].ok("GET", f"/requests/{req['id']}") == req
    assert kinds_of(net.api["admin"], req["id"]) == before, "a refused action is no event"


@pytest.mark.parametrize("version", [0, 2, 1000])
def test_a_version_that_is_not_the_current_one_is_409(net: Net, version: int) -> None:
    req = _request_in(net, "requested")
    for action in ("acknowledge", "reject", "cancel"):
        refused(net.api["esa"], req, action, 409,
                {**ACTION_BODY[action], "version": version})
    assert net.api["esa"].ok("GET", f"/requests/{req['id']}") == req
    acked = act(net.api["esa"], req, "acknowledge")
    refused(net.api["esa"], acked, "cancel", 409, {"version": req["version"]})  # the old one


ACTION_BAD = [
    ("acknowledge", {}, "version"), ("acknowledge", {"version": "x"}, "version"),
    ("acknowledge", {"version": 1.5}, "version"), ("cancel", {"version": None}, "version"),
    ("result", {"returned_bits": -1, "forward_delivered": True}, "returned_bits"),
    ("result", {"returned_bits": 1.5, "forward_delivered": True}, "returned_bits"),
    ("result", {"returned_bits": "5", "forward_delivered": True}, "returned_bits"),
    ("result", {"returned_bits": 5, "forward_delivered": "yes"}, "forward_delivered"),
    ("result", {"returned_bits": 5, "forward_delivered": 1}, "forward_delivered"),
    ("result", {"returned_bits": 5, "forward_delivered": None}, "forward_delivered"),
]


@pytest.mark.parametrize(("action", "body", "field"), ACTION_BAD,
                         ids=[f"{a}:{b}" for a, b, _ in ACTION_BAD])
def test_a_bad_action_body_is_422_naming_the_field(
        net: Net, action: str, body: dict[str, Any], field: str) -> None:
    """``forward_delivered`` is a boolean and ``returned_bits`` an integer (literally: a
    JSON string or number standing in for them is no boolean or integer)."""
    req = _request_in(net, "acknowledged")
    payload = {"version": req["version"], **body} if field != "version" else body
    response = net.api["esa"].post(f"/requests/{req['id']}/{action}", json=payload)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert net.api["esa"].ok("GET", f"/requests/{req['id']}") == req


def test_result_fields_keep_their_types_before_any_result(net: Net) -> None:
    """Literal reading of "`forward_delivered` is a boolean. `returned_bits` and
    `forward_bits` are integers >= 0": the fields keep those types before a result is
    recorded (0 and false), never null."""
    for state in ("requested", "acknowledged"):
        req = _request_in(net, state)
        assert type(req["returned_bits"]) is int and req["returned_bits"] == 0
        if "forward_delivered" in req:
            assert req["forward_delivered"] is False


# ---------------------------------------------------------------------------- visibility


def test_a_request_is_visible_to_its_two_agencies_and_admins(net: Net) -> None:
    mine = {}
    for orbiter in ("TGO", "MRO"):
        for lander, owner in ((RF, "esa"), (MAWRTH, "nasa")):
            ov, s, e = net.slots.part(orbiter, lander, 10_000)
            mine[(orbiter, lander)] = create(net.api[owner], ov, s, e)["id"]
    everything = set(mine.values())
    visible = {
        "esa": {mine[k] for k in mine if "ESA" in (AGENCY[k[0]], AGENCY[k[1]])},
        "nasa": {mine[k] for k in mine if "NASA" in (AGENCY[k[0]], AGENCY[k[1]])},
        "jaxa": set(), "admin": everything}
    visible["esa_viewer"] = visible["esa"]
    assert mine[("TGO", RF)] not in visible["nasa"] and mine[("MRO", MAWRTH)] not in visible["esa"]
    for user, ids in visible.items():
        api = net.api[user]
        for rid in everything:
            assert get_status(api, f"/requests/{rid}") == (200 if rid in ids else 404), user
        listed = api.ok("GET", "/requests")
        assert {r["id"] for r in listed} & everything == ids, user
        assert [r["id"] for r in listed] == sorted(r["id"] for r in listed), "ordered by id"
        seen = {e["request_id"] for e in events(api)}
        assert seen & everything == ids, f"{user} sees the events of invisible requests"
    # filters select within what is visible
    admin = net.api["admin"]
    for params, keep in (({"orbiter": "TGO"}, lambda r: r["orbiter"] == "TGO"),
                         ({"lander": MAWRTH}, lambda r: r["lander"] == MAWRTH),
                         ({"state": "requested"}, lambda r: r["state"] == "requested")):
        got = admin.ok("GET", "/requests", params=params)
        assert got == [r for r in admin.ok("GET", "/requests") if keep(r)], params


# ------------------------------------------------------------------------ conflicts and busy


def _pairs(api: Api, ids: set[int]) -> dict[frozenset[int], dict[str, Any]]:
    """The conflict pairs that involve any of ``ids`` (each pair must be listed once)."""
    found: dict[frozenset[int], dict[str, Any]] = {}
    for c in api.ok("GET", "/conflicts"):
        assert set(c) >= {"orbiter", "request_ids", "overlap_start_utc", "overlap_end_utc"}
        pair = frozenset(c["request_ids"])
        assert len(c["request_ids"]) == 2 and len(pair) == 2
        assert to_ms(c["overlap_start_utc"]) < to_ms(c["overlap_end_utc"])
        assert pair not in found, f"pair {sorted(pair)} listed twice"
        if pair & ids:
            found[pair] = c
    return found


def test_conflicts_half_open_windows_and_the_acknowledge_409(net: Net) -> None:
    ov, s, _ = net.slots.part("TGO", RF, 120_000)
    esa = net.api["esa"]
    m = s + 60_000
    a = create(esa, ov, s, m)                  # [s, m)
    b = create(esa, ov, m, s + 120_000)        # [m, e): touches a, no overlap
    c = create(esa, ov, m - 1, m + 30_000)     # overlaps a by 1 ms and b by 30 s
    ids = {a["id"], b["id"], c["id"]}
    pairs = _pairs(esa, ids)
    assert set(pairs) == {frozenset({a["id"], c["id"]}), frozenset({b["id"], c["id"]})}
    ac = pairs[frozenset({a["id"], c["id"]})]
    assert (ac["orbiter"], ac["overlap_start_utc"], ac["overlap_end_utc"]) == (
        "TGO", iso(m - 1), iso(m))
    bc = pairs[frozenset({b["id"], c["id"]})]
    assert (bc["overlap_start_utc"], bc["overlap_end_utc"]) == (iso(m), iso(m + 30_000))
    assert _pairs(net.api["nasa"], ids) == {}, "NASA neither owns TGO nor these requests"
    assert _pairs(net.api["jaxa"], ids) == {}
    b = act(esa, b, "acknowledge")
    refused(esa, c, "acknowledge", 409)        # overlaps the acknowledged b
    a = act(esa, a, "acknowledge")             # only touches b: no overlap
    assert set(_pairs(esa, ids)) == set(pairs), "acknowledged and requested are both live"
    c = act(esa, c, "cancel")
    assert _pairs(esa, ids) == {}, "a cancelled request is not live"


def test_only_an_acknowledged_window_blocks_an_acknowledgement(net: Net) -> None:
    """Literal reading of "409 if ... the window overlaps an acknowledged request on the same
    orbiter": an implemented request (not live, not in /conflicts) does not block; the
    states where the contract means both say so (/busy, SSF)."""
    ov, s, e = net.slots.part("TGO", RF, 30_000)
    esa = net.api["esa"]
    done = act(esa, act(esa, create(esa, ov, s, e), "acknowledge"), "result")
    again = create(esa, ov, s + 10_000, e)
    assert _pairs(esa, {done["id"], again["id"]}) == {}, "an implemented request is not live"
    act(esa, again, "acknowledge")


def test_a_split_pass_shares_an_overflight_and_conflicts_across_agencies(net: Net) -> None:
    ov_rf, ov_m, s, _ = net.slots.together(("TGO", RF), ("TGO", MAWRTH), 90_000)
    esa, nasa = net.api["esa"], net.api["nasa"]
    mine = create(esa, ov_rf, s, s + 60_000)
    theirs = create(nasa, ov_m, s + 30_000, s + 90_000)
    pair = frozenset({mine["id"], theirs["id"]})
    for user in ("esa", "esa_viewer", "nasa"):
        conflict = _pairs(net.api[user], set(pair))
        assert set(conflict) == {pair}, user
        assert conflict[pair]["orbiter"] == "TGO"
        assert (conflict[pair]["overlap_start_utc"], conflict[pair]["overlap_end_utc"]) == (
            iso(s + 30_000), iso(s + 60_000))
    assert get_status(nasa, f"/requests/{mine['id']}") == 404, "the other's details stay hidden"
    assert _pairs(net.api["jaxa"], set(pair)) == {}
    # a split pass: the same two overflights, windows that only touch, are no conflict
    theirs = act(nasa, theirs, "cancel")
    split = create(nasa, ov_m, s + 60_000, s + 90_000)
    assert _pairs(esa, {mine["id"], split["id"]}) == {}
    mine = act(esa, mine, "acknowledge")
    split = act(esa, split, "acknowledge")
    # the same orbiter: an acknowledged window of another lander blocks an overlapping one
    late = create(nasa, ov_m, s + 59_999, s + 60_000)
    refused(esa, late, "acknowledge", 409)
    assert set(_pairs(esa, {late["id"]})) == {frozenset({mine["id"], late["id"]})}


def test_windows_on_different_orbiters_never_conflict(net: Net) -> None:
    """Conflicts and the acknowledge 409 are about one orbiter; simultaneous passes of two
    orbiters are not in each other's way."""
    ov_t, ov_m, s, e = net.slots.together(("TGO", RF), ("MRO", RF), 30_000)
    esa, nasa = net.api["esa"], net.api["nasa"]
    on_tgo, on_mro = create(esa, ov_t, s, e), create(esa, ov_m, s, e)
    assert _pairs(esa, {on_tgo["id"], on_mro["id"]}) == {}
    assert _pairs(net.api["admin"], {on_tgo["id"], on_mro["id"]}) == {}
    act(esa, on_tgo, "acknowledge")
    act(nasa, on_mro, "acknowledge")


def test_the_orbiter_agency_sees_every_pair_on_its_orbiter(net: Net) -> None:
    ov, s, _ = net.slots.part("MRO", RF, 40_000)
    esa = net.api["esa"]
    a, b = create(esa, ov, s, s + 30_000), create(esa, ov, s + 10_000, s + 40_000)
    pair = frozenset({a["id"], b["id"]})
    assert set(_pairs(net.api["nasa"], set(pair))) == {pair}, "NASA owns MRO"
    assert set(_pairs(esa, set(pair))) == {pair}
    assert _pairs(net.api["jaxa"], set(pair)) == {}
    act(esa, b, "cancel")


def test_busy_lists_acknowledged_and_implemented_windows_anonymously(net: Net) -> None:
    ov, s, _ = net.slots.part("MRO", MAWRTH, 160_000)
    nasa = net.api["nasa"]
    w = [(s + k * 40_000, s + (k + 1) * 40_000) for k in range(4)]
    acked = act(nasa, create(nasa, ov, *w[0]), "acknowledge")
    done = act(nasa, act(nasa, create(nasa, ov, *w[1]), "acknowledge"), "result")
    create(nasa, ov, *w[2])
    act(nasa, act(nasa, create(nasa, ov, *w[3]), "acknowledge"), "cancel")
    assert acked["state"] == "acknowledged" and done["state"] == "implemented"
    for user in ("jaxa", "esa", "nasa", "admin"):
        busy = net.api[user].ok("GET", "/busy", params={"orbiter": "MRO"})
        for item in busy:
            assert set(item) == {"orbiter", "start_utc", "end_utc"}, item
            assert item["orbiter"] == "MRO"
        windows = {(to_ms(i["start_utc"]), to_ms(i["end_utc"])) for i in busy}
        assert w[0] in windows and w[1] in windows, user
        assert w[2] not in windows and w[3] not in windows, user
    tgo = net.api["jaxa"].ok("GET", "/busy", params={"orbiter": "TGO"})
    assert not {(to_ms(i["start_utc"]), to_ms(i["end_utc"])) for i in tgo} & set(w)
    # `orbiter=` is a filter like /overflights' (each item names its orbiter): without it,
    # every orbiter's busy time
    every = net.api["jaxa"].ok("GET", "/busy")
    assert {("MRO", iso(a), iso(b)) for a, b in w[:2]} <= {
        (i["orbiter"], i["start_utc"], i["end_utc"]) for i in every}


# ------------------------------------------------------------------------------ accounting


def _rows(api: Api, start: int | None = None, end: int | None = None) -> list[dict[str, Any]]:
    params = {}
    if start is not None:
        params["start"] = iso(start)
    if end is not None:
        params["end"] = iso(end)
    rows = api.ok("GET", "/accounting", params=params)
    for row in rows:
        assert set(row) >= {"provider_agency", "user_agency", "passes", "relay_s",
                            "predicted_bits", "returned_bits"}
        for key in ("passes", "predicted_bits", "returned_bits"):
            assert type(row[key]) is int and row[key] >= 0, (key, row)
        assert isinstance(row["relay_s"], int | float) and row["relay_s"] >= 0
    pairs = [(r["provider_agency"], r["user_agency"]) for r in rows]
    assert len(pairs) == len(set(pairs)), "one row per provider and user agency"
    return rows


def _implemented_alone(net: Net, orbiter: str, lander: str, whole: bool,
                       returned: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """An implemented request whose window (and a second either side) no other test's
    window overlaps, on any orbiter."""
    owner = "esa" if AGENCY[lander] == "ESA" else "nasa"
    provider = "esa" if AGENCY[orbiter] == "ESA" else "nasa"
    other = "MRO" if orbiter == "TGO" else "TGO"
    if whole:
        ov = net.slots.whole(orbiter, lander, also=(other,), guard_ms=1_000)
        s, e = to_ms(ov["start_utc"]), to_ms(ov["end_utc"])
    else:
        ov, s, e = net.slots.part(orbiter, lander, 45_000, also=(other,), guard_ms=1_000)
    req = create(net.api[owner], ov, None if whole else s, None if whole else e)
    req = act(net.api[provider], req, "acknowledge")
    req = act(net.api[provider], req, "result", returned_bits=returned, forward_delivered=True)
    return ov, req


def test_accounting_counts_implemented_passes_and_shows_rows_by_agency(net: Net) -> None:
    cases = [("TGO", MAWRTH, True, 700_000_000, ("ESA", "NASA")),
             ("MRO", RF, False, 30_000_000, ("NASA", "ESA")),
             ("TGO", RF, False, 20_000_000, ("ESA", "ESA"))]
    for orbiter, lander, whole, returned, (provider, user) in cases:
        ov, req = _implemented_alone(net, orbiter, lander, whole, returned)
        s, e = to_ms(req["start_utc"]), to_ms(req["end_utc"])
        rows = _rows(net.api["admin"], s, e)
        assert len(rows) == 1, rows
        row = rows[0]
        assert (row["provider_agency"], row["user_agency"]) == (provider, user)
        assert row["passes"] == 1 and row["returned_bits"] == returned
        assert row["relay_s"] == pytest.approx((e - s) / 1000, abs=1e-3)
        if whole:
            assert row["predicted_bits"] == ov["predicted_bits"], "the whole prediction"
        else:
            assert 0 < row["predicted_bits"] < ov["predicted_bits"], "a share of it"
        assert _rows(net.api["admin"], e, e + 1) == [], "a pass ending at start: no overlap"
        assert _rows(net.api["admin"], s - 1, s) == [], "a pass starting at end: no overlap"
        for viewer in ("esa", "esa_viewer", "nasa", "jaxa"):
            agency = USERS[viewer][0]
            expected = rows if agency in (provider, user) else []
            assert _rows(net.api[viewer], s, e) == expected, viewer
    everything = _rows(net.api["admin"])
    assert {("ESA", "NASA"), ("NASA", "ESA"), ("ESA", "ESA")} <= {
        (r["provider_agency"], r["user_agency"]) for r in everything}
    for viewer in ("esa", "nasa", "jaxa"):
        agency = USERS[viewer][0]
        assert _rows(net.api[viewer]) == [
            r for r in everything if agency in (r["provider_agency"], r["user_agency"])]


def test_accounting_sums_passes_of_one_agency_pair(net: Net) -> None:
    ov, s, e = net.slots.part("TGO", RF, 60_000, also=("MRO",), guard_ms=1_000)
    esa = net.api["esa"]
    for (a, b), returned in (((s, s + 20_000), 7), ((s + 20_000, e), 11)):
        act(esa, act(esa, create(esa, ov, a, b), "acknowledge"), "result",
            returned_bits=returned, forward_delivered=False)
    (row,) = _rows(net.api["esa"], s, e)
    assert (row["passes"], row["returned_bits"]) == (2, 18)
    assert row["relay_s"] == pytest.approx(60.0, abs=1e-3)
    assert _rows(net.api["nasa"], s, e) == []


# ---------------------------------------------------------------------------------- events


def test_events_are_ordered_exclusive_after_and_limited(net: Net) -> None:
    api = net.api["admin"]
    every = events(api)
    assert len(every) >= 3
    ids = [e["id"] for e in every]
    assert all(type(i) is int for i in ids) and ids == sorted(set(ids)), "strictly increasing"
    for event in every:
        assert set(event) >= {"id", "time_utc", "kind", "request_id", "state"}
        assert ISO_MS.match(event["time_utc"]) and event["kind"] in KINDS
        if event["kind"] != "trajectory":
            assert type(event["request_id"]) is int and event["state"] in STATES
    assert [e["id"] for e in api.ok("GET", "/events", params={"after": ids[1]})] == ids[2:]
    assert api.ok("GET", "/events", params={"after": ids[0], "limit": 1}) == [every[1]]
    assert api.ok("GET", "/events", params={"after": ids[-1]}) == []
    assert api.ok("GET", "/events", params={"limit": 1000}) == every
    assert api.ok("GET", "/events") == every, "`after` is optional"
    over = api.get("/events", params={"limit": 5000})
    assert over.status_code in (200, 422), "limit's maximum is 1000 (clamped or refused)"
    if over.status_code == 200:
        assert len(over.json()) <= 1000


def test_events_walk_a_request_through_its_states(net: Net) -> None:
    nasa, esa = net.api["nasa"], net.api["esa"]
    ov, s, e = net.slots.part("TGO", MAWRTH, 20_000)
    last = events(nasa)[-1]["id"]
    req = create(nasa, ov, s, e)
    req = act(esa, req, "acknowledge")
    req = act(esa, req, "result", returned_bits=0, forward_delivered=False)
    assert req["returned_bits"] == 0
    if "forward_delivered" in req:
        assert req["forward_delivered"] is False
    mine = [e for e in nasa.ok("GET", "/events", params={"after": last})
            if e["request_id"] == req["id"]]
    assert [(e["kind"], e["state"]) for e in mine] == [
        ("created", "requested"), ("acknowledged", "acknowledged"),
        ("implemented", "implemented")]
    assert [e["id"] for e in mine] == sorted(e["id"] for e in mine)


# ------------------------------------------------------------------------ files, plan, SSF


def test_forward_files_are_stored_whole_with_their_sha256(net: Net, cross: dict[str, Any]) -> None:
    req = cross["req"]
    content = bytes(range(256)) * 64 + b"forward product"
    answer = net.api["nasa"].ok("POST", f"/requests/{req['id']}/files", 201,
                                files={"file": ("cmd.bin", content)})
    assert answer["sha256"] == hashlib.sha256(content).hexdigest()
    file_id = answer["id"]
    for user in ("nasa", "esa", "admin"):
        got = net.api[user].get(f"/requests/{req['id']}/files/{file_id}")
        assert got.status_code == 200 and got.content == content, user
    assert get_status(net.api["jaxa"], f"/requests/{req['id']}/files/{file_id}") == 404
    response = net.api["nasa"].post(f"/requests/{req['id']}/files", data={"x": "y"})
    assert response.status_code == 422 and "file" in response.text, response.text
    assert get_status(net.api["nasa"], f"/requests/{req['id']}/files/99999999") == 404
    other = _request_in(net, "requested")  # an ESA request: the file is not one of its files
    assert get_status(net.api["admin"], f"/requests/{other['id']}/files/{file_id}") == 404


def test_plan_proposes_without_changing_requests(net: Net) -> None:
    ov, s, e = net.slots.part("TGO", RF, 60_000)
    esa = net.api["esa"]
    a, b = create(esa, ov, s, s + 40_000), create(esa, ov, s + 20_000, e)
    before = esa.ok("GET", "/requests")
    plan = esa.ok("POST", "/plan", json={"orbiter": "TGO", "start_utc": ov["start_utc"],
                                         "end_utc": ov["end_utc"]})
    assert plan is not None
    assert esa.ok("GET", "/requests") == before, "a plan proposes; it changes no request"
    assert {a["id"], b["id"]} <= {r["id"] for r in before}
    for body, field in (({"start_utc": ov["start_utc"], "end_utc": ov["end_utc"]}, "orbiter"),
                        ({"orbiter": "TGO", "start_utc": "soon",
                          "end_utc": ov["end_utc"]}, "start_utc")):
        response = esa.post("/plan", json=body)
        assert response.status_code == 422 and field in response.text, response.text


DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")


def test_ssf_export_holds_acknowledged_and_implemented_passes(net: Net) -> None:
    ov, s, _ = net.slots.part("TGO", RF, 120_000)
    esa = net.api["esa"]
    w = [(s + k * 30_000, s + (k + 1) * 30_000 - 7) for k in range(4)]
    act(esa, create(esa, ov, *w[0]), "acknowledge")
    act(esa, act(esa, create(esa, ov, *w[1]), "acknowledge"), "result")
    create(esa, ov, *w[2])
    act(esa, act(esa, create(esa, ov, *w[3]), "acknowledge"), "cancel")

    def ssf(**params: Any) -> str:
        response = esa.get("/export/ssf", params=params)
        assert response.status_code == 200, response.text
        root = ET.fromstring(response.content)
        assert "schedule" in root.tag.lower(), root.tag
        for stamp in DATETIME.findall(response.text):
            assert re.search(r"\.\d{3}Z?$", stamp), f"SSF time without milliseconds: {stamp}"
        return response.text

    def has(text: str, window: tuple[int, int]) -> bool:
        return iso(window[0])[:-1] in text and iso(window[1])[:-1] in text

    text = ssf(orbiter="TGO")
    assert has(text, w[0]) and has(text, w[1])
    assert not has(text, w[2]) and not has(text, w[3])
    text = ssf(orbiter="TGO", start=iso(w[1][0]), end=iso(w[1][1]))
    assert has(text, w[1]) and not has(text, w[0])
    assert not has(ssf(orbiter="TGO", start=iso(w[1][1]), end=iso(w[1][1] + 1)), w[1])
    assert not has(ssf(orbiter="MRO"), w[0])


# --------------------------------------------------------------------------- never a 500


@pytest.mark.parametrize(("path", "params"), [
    ("/overflights", {"start": "garbage"}), ("/overflights", {"orbiter": "Nope"}),
    ("/overflights", {"start": "2030-11-03T00:00:00Z", "end": "2030-11-01T00:00:00Z"}),
    ("/overflights", {"limit": -1}), ("/requests", {"state": "bogus"}),
    ("/requests", {"orbiter": "Nope"}), ("/events", {"after": -5}),
    ("/events", {"after": "abc"}), ("/events", {"after": 2**70}), ("/events", {"after": -2**70}),
    ("/events", {"limit": 2**70}), ("/overflights", {"limit": 2**70}),
    ("/overflights", {"offset": 2**70}), ("/requests", {"limit": 2**70}),
    ("/requests", {"offset": 2**70}), (f"/overflights/{2**70}", {}),
    (f"/requests/1/files/{2**70}", {}), ("/audit", {"after": 2**70}), ("/busy", {}),
    ("/busy", {"orbiter": "Nope"}), ("/accounting", {"start": "x"}),
    ("/export/ssf", {"orbiter": "Nope"}), ("/export/ssf", {}),
    ("/export/ssf", {"orbiter": "TGO", "start": "x"}), ("/conflicts", {"orbiter": "x"}),
])
def test_odd_queries_are_answered_without_a_500(net: Net, path: str, params: dict) -> None:
    assert get_status(net.api["admin"], path, params=params) < 500


def test_odd_bodies_are_answered_without_a_500(net: Net, scratch_ov: dict[str, Any]) -> None:
    esa = net.api["esa"]
    ov = scratch_ov
    s, e = to_ms(ov["start_utc"]), to_ms(ov["start_utc"]) + 1000
    for note in ("x" * 20_000, "Ωμέγα ✓ \x00", None):
        response = esa.post("/requests", json={"overflight_id": ov["id"], "return_bits": 1,
                                               "start_utc": iso(s), "end_utc": iso(e),
                                               "note": note})
        assert response.status_code in (201, 413, 422)
        if response.status_code == 201:
            act(esa, response.json(), "cancel")
    window = {"start_utc": iso(s), "end_utc": iso(e)}
    for body in ({"return_bits": 2**80, "overflight_id": ov["id"], **window},
                 {"return_bits": 1, "overflight_id": ov["id"], **window,
                  "start_utc": "2030-13-45T99:99Z"},
                 {"return_bits": 1, "overflight_id": ov["id"], **window,
                  "start_utc": iso(s) + "junk"}):
        response = esa.post("/requests", json=body)
        assert response.status_code in (201, 422)
        if response.status_code == 201:
            act(esa, response.json(), "cancel")
    assert esa.post("/plan", json={"orbiter": "Nope", "start_utc": iso(s),
                                   "end_utc": iso(e)}).status_code < 500


# ------------------------------------------------------------ init again, backup, signals


def test_init_again_changes_nothing_also_with_requests(net: Net) -> None:
    admin = net.api["admin"]
    _request_in(net, "acknowledged")
    before = (admin.ok("GET", "/overflights"), admin.ok("GET", "/requests"), events(admin),
              admin.ok("GET", "/assets"))
    done = run_cli(["service", "init", str(net.scenario), "--db", net.db_url], net.tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    after = (admin.ok("GET", "/overflights"), admin.ok("GET", "/requests"), events(admin),
             admin.ok("GET", "/assets"))
    assert after == before, "init with the same scenario changes nothing, ids are kept"
    assert admin.ok("GET", "/me")["name"] == "admin", "users and tokens are kept"


@pytest.fixture(scope="module")
def backup(net: Net) -> Iterator[Server]:
    """`service backup` while another client writes; then a second server on the copy,
    naming its database through MARSRELAY_DB only."""
    nasa = net.api["nasa"]
    windows = [net.slots.part("MRO", MAWRTH, 2_000) for _ in range(12)]
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for ov, s, e in windows:
                act(nasa, create(nasa, ov, s, e), "acknowledge")
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    copy = net.tmp / "copy" / "backup.db"
    copy.parent.mkdir()
    done = run_cli(["service", "backup", "--db", net.db_url, str(copy)], net.tmp)
    thread.join(timeout=300)
    assert not errors, errors
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server = start_server(None, copy.parent, env=clean_env(MARSRELAY_DB=f"sqlite:///{copy}"))
    yield server
    if server.proc.poll() is None:
        server.stop(signal.SIGTERM)


def test_backup_is_a_consistent_copy_while_serving(net: Net, backup: Server) -> None:
    live, copied = net.api["admin"], Api(backup, net.tokens["admin"])
    assert copied.ok("GET", "/me")["name"] == "admin"
    assert copied.ok("GET", "/overflights") == live.ok("GET", "/overflights")
    in_copy = copied.ok("GET", "/requests")
    now = {r["id"]: r for r in live.ok("GET", "/requests")}
    ids = [r["id"] for r in in_copy]
    assert ids == sorted(now)[: len(ids)], "the copy is the live list as of one moment"
    per_request: dict[int, int] = {}
    for event in events(copied):
        if event["request_id"] is not None:
            per_request[event["request_id"]] = per_request.get(event["request_id"], 0) + 1
    for req in in_copy:
        assert per_request.get(req["id"], 0) == req["version"], (
            f"request {req['id']}: version {req['version']} but "
            f"{per_request.get(req['id'], 0)} events in the copy")
        live_req = now[req["id"]]
        for key in ("overflight_id", "start_utc", "end_utc", "lander", "orbiter"):
            assert live_req[key] == req[key]


# -------------------------------------------- trajectories (on the backup copy's server)


def _oem(epoch_ms: int, span_s: int, a_km: float, i_deg: float) -> str:
    """A CCSDS OEM 2.0 (KVN) of a circular orbit about Mars in ICRF, 60 s steps."""
    n = math.sqrt(GM_MARS_KM3_S2 / a_km**3)
    t = np.arange(0, span_s + 60, 60.0)
    u = n * t
    inc = math.radians(i_deg)
    x, yo = a_km * np.cos(u), a_km * np.sin(u)
    vx, vyo = -a_km * n * np.sin(u), a_km * n * np.cos(u)
    y, z = yo * math.cos(inc), yo * math.sin(inc)
    vy, vz = vyo * math.cos(inc), vyo * math.sin(inc)
    lines = ["CCSDS_OEM_VERS = 2.0", "CREATION_DATE = 2030-10-30T00:00:00.000",
             "ORIGINATOR = MARSRELAY-AUDIT", "", "META_START", "OBJECT_NAME = TGO",
             "OBJECT_ID = 2016-017A", "CENTER_NAME = MARS", "REF_FRAME = ICRF",
             "TIME_SYSTEM = UTC", f"START_TIME = {iso(epoch_ms)[:-1]}",
             f"STOP_TIME = {iso(epoch_ms + int(t[-1]) * 1000)[:-1]}", "META_STOP", ""]
    for k, dt in enumerate(t):
        lines.append(f"{iso(epoch_ms + int(dt) * 1000)[:-1]} {x[k]:.6f} {y[k]:.6f} {z[k]:.6f} "
                     f"{vx[k]:.9f} {vy[k]:.9f} {vz[k]:.9f}")
    return "\n".join(lines) + "\n"


def _tgo_version(api: Api) -> int:
    """The newest trajectory_version among TGO's overflights (whether /overflights also lists
    the superseded ones is not fixed by the contract)."""
    return max(o["trajectory_version"] for o in api.ok("GET", "/overflights",
                                                       params={"orbiter": "TGO"}))


@pytest.fixture(scope="module")
def moved(net: Net, backup: Server) -> dict[str, Any]:
    """Requests on the copy's server, then TGO's trajectory published twice: the same
    elements (every request still fits), then half an orbit later (none fits)."""
    esa, nasa = Api(backup, net.tokens["esa"]), Api(backup, net.tokens["nasa"])
    ovs = esa.ok("GET", "/overflights")
    slots = Slots(ovs)
    for r in esa.ok("GET", "/requests") + nasa.ok("GET", "/requests"):
        slots.reserve(r["orbiter"], to_ms(r["start_utc"]), to_ms(r["end_utc"]))
    ov, s, e = slots.part("TGO", MAWRTH, 30_000)
    theirs = act(esa, create(nasa, ov, s, e), "acknowledge")
    ov, s, e = slots.part("TGO", RF, 30_000)
    mine = create(esa, ov, s, e)
    ov, s, e = slots.part("MRO", RF, 30_000)
    other_orbiter = create(esa, ov, s, e)
    version0 = _tgo_version(esa)
    ovs_before = [o for o in esa.ok("GET", "/overflights", params={"orbiter": "TGO"})
                  if o["trajectory_version"] == version0]
    first = esa.call("PUT", "/orbiters/TGO/trajectory", json=TGO_ELEMENTS)
    after_same = {r["id"]: esa.ok("GET", f"/requests/{r['id']}") for r in (mine, theirs)}
    ovs_same = esa.ok("GET", "/overflights", params={"orbiter": "TGO"})
    version1 = _tgo_version(esa)
    last = events(esa)[-1]["id"]
    second = esa.call("PUT", "/orbiters/TGO/trajectory",
                      json={**TGO_ELEMENTS, "mean_anomaly_deg": 180.0})
    return {"esa": esa, "nasa": nasa, "theirs": theirs, "mine": mine, "other": other_orbiter,
            "v0": version0, "first": first, "after_same": after_same, "ovs_same": ovs_same,
            "v1": version1, "last_event": last, "second": second, "ovs_before": ovs_before}


def test_publishing_the_same_elements_relinks_every_request(moved: dict[str, Any]) -> None:
    assert moved["first"].status_code == 200, moved["first"].text
    assert moved["v1"] == moved["v0"] + 1, "a new trajectory_version"
    assert moved["first"].json()["trajectory_version"] == moved["v1"], "the answer names it"

    def passes(ovs: list[dict[str, Any]], version: int) -> list[tuple[str, str, str]]:
        return [(o["lander"], o["start_utc"], o["end_utc"]) for o in ovs
                if o["trajectory_version"] == version]

    assert passes(moved["ovs_same"], moved["v1"]) == passes(moved["ovs_before"], moved["v0"]), (
        "the same elements predict the same overflights")
    for old in (moved["mine"], moved["theirs"]):
        now = moved["after_same"][old["id"]]
        assert now["state"] == old["state"], "a request that still fits is not stale"
        assert (now["start_utc"], now["end_utc"]) == (old["start_utc"], old["end_utc"])
        ov = next(o for o in moved["ovs_same"] if o["id"] == now["overflight_id"])
        assert ov["trajectory_version"] == moved["v1"], "re-linked to a current overflight"
        assert to_ms(ov["start_utc"]) <= to_ms(now["start_utc"]) < to_ms(
            now["end_utc"]) <= to_ms(ov["end_utc"])


def test_a_moved_trajectory_makes_requests_stale_with_events(moved: dict[str, Any]) -> None:
    esa, nasa = moved["esa"], moved["nasa"]
    assert moved["second"].status_code == 200, moved["second"].text
    assert _tgo_version(esa) == moved["v1"] + 1
    new = esa.ok("GET", "/events", params={"after": moved["last_event"]})
    assert "trajectory" in {e["kind"] for e in new}
    for old, owner in ((moved["mine"], esa), (moved["theirs"], nasa)):
        now = owner.ok("GET", f"/requests/{old['id']}")
        before = moved["after_same"][old["id"]]
        assert now["state"] == "stale" and now["version"] == before["version"] + 1
        told = [(e["kind"], e["state"]) for e in owner.ok(
            "GET", "/events", params={"after": moved["last_event"]})
            if e["request_id"] == old["id"]]
        assert told == [("stale", "stale")], "its owner is told"
        for action in ("acknowledge", "reject", "result"):
            refused(esa, now, action, 409)      # ESA owns TGO
        refused(owner, now, "cancel", 409)      # the lander's agency
    other = esa.ok("GET", f"/requests/{moved['other']['id']}")
    assert other == moved["other"], "another orbiter's requests do not move"
    busy = nasa.ok("GET", "/busy", params={"orbiter": "TGO"})
    theirs = moved["theirs"]
    assert (theirs["start_utc"], theirs["end_utc"]) not in {
        (b["start_utc"], b["end_utc"]) for b in busy}, "a stale request is not busy time"


def test_trajectory_publishing_is_for_the_orbiters_planners(
        net: Net, backup: Server, moved: dict[str, Any]) -> None:
    def put(user: str | None, name: str = "TGO", **kwargs: Any) -> int:
        api = Api(backup, None if user is None else net.tokens[user])
        return api.call("PUT", f"/orbiters/{name}/trajectory", **kwargs).status_code

    body = {"json": TGO_ELEMENTS}
    assert put(None, **body) == 401
    for user in ("nasa", "esa_viewer", "jaxa", "admin"):
        assert put(user, **body) == 403, user
    assert put("esa", "Nope", **body) == 404
    assert put("nasa", "Nope", **body) == 404
    response = Api(backup, net.tokens["esa"]).call(
        "PUT", "/orbiters/TGO/trajectory", json={"i_deg": 74.0})
    assert response.status_code == 422 and "a_km" in response.text
    assert put("esa", content=b"this is not an OEM",
               headers={"Content-Type": "text/plain"}) == 422


def test_an_oem_trajectory_is_published_as_body_or_file(
        net: Net, backup: Server, moved: dict[str, Any]) -> None:
    """The contract does not say how the OEM travels: both a text body and a multipart
    ``file`` (as for forward files) are tried."""
    esa = moved["esa"]
    oem = _oem(to_ms("2030-11-01T00:00:00.000Z"), 3 * 86_400, 3796.19, 74.0)
    version = _tgo_version(esa)
    response = esa.call("PUT", "/orbiters/TGO/trajectory", content=oem.encode(),
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert _tgo_version(esa) == version + 1
    response = esa.call("PUT", "/orbiters/TGO/trajectory",
                        files={"file": ("tgo.oem", oem.encode(), "text/plain")})
    assert response.status_code == 200, response.text
    assert _tgo_version(esa) == version + 2
    ovs = esa.ok("GET", "/overflights", params={"orbiter": "TGO"})
    current = [o for o in ovs if o["trajectory_version"] == version + 2]
    assert {o["lander"] for o in current} == {RF, MAWRTH}, "the OEM's orbit passes over both"


def test_serve_stops_on_sigterm_with_status_143(backup: Server) -> None:
    assert backup.stop(signal.SIGTERM) == 143, backup.log()[-2000:]


def test_serve_stops_on_sigint_with_status_0(net: Net) -> None:
    """Also after a /plan (the optimiser must leave the server's signal handling alone)."""
    assert net.server.seen_5xx == [], "a 500 is a bug"
    ov, s, e = net.slots.part("MRO", MAWRTH, 20_000)
    nasa = net.api["nasa"]
    create(nasa, ov, s, s + 15_000)
    create(nasa, ov, s + 5_000, e)
    nasa.ok("POST", "/plan", json={"orbiter": "MRO", "start_utc": ov["start_utc"],
                                   "end_utc": ov["end_utc"]})
    assert net.server.stop(signal.SIGINT) == 0, net.server.log()[-2000:]
