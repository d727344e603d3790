"""No input gives a 500: malformed JSON, wrong types, negative or huge volumes, windows outside
the overflight, unknown ids, strange paths and parameters, oversize bodies. Each answers with
the status of the spec (and 422 names the field)."""

from __future__ import annotations

import pytest

from helpers.service_kit import Env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BODIES = [
    b"", b"{", b"null", b"[]", b"42", b'"text"', b"{}", b'{"overflight_id": null}',
    b'{"overflight_id": "1", "return_bits": 5}', b'{"overflight_id": 1.5, "return_bits": 5}',
    b'{"overflight_id": true, "return_bits": 5}', b'{"overflight_id": -3, "return_bits": 5}',
    b'{"overflight_id": 99999999999999999999, "return_bits": 5}',
    b"\xff\xfe\x00garbage", b'{"a":' * 5000,
]


def test_create_never_500(env: Env) -> None:
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    good = f'"overflight_id": {ov["id"]}'.encode()
    bodies = [*BODIES] + [b"{" + good + b", " + extra + b"}" for extra in (
        b'"return_bits": -1', b'"return_bits": 1e3', b'"return_bits": "5"',
        b'"return_bits": 99999999999999999999999', b'"return_bits": 5, "priority": 0',
        b'"return_bits": 5, "priority": 6', b'"return_bits": 5, "priority": "high"',
        b'"return_bits": 5, "forward_bits": -2', b'"return_bits": 5, "start_utc": "soon"',
        b'"return_bits": 5, "start_utc": 12', b'"return_bits": 5, "end_utc": "1999-01-01T00:00Z"',
        b'"return_bits": 5, "start_utc": "2030-13-45T99:00:00Z"',
        b'"return_bits": 5, "unknown": 1', b'"return_bits": 5, "note": ' + b'"x' * 3000 + b'"',
    )]
    before = len(env.get("/requests", "admin").json())
    for body in bodies:
        r = env.post("/requests", "esa_planner", content=body,
                     headers={"content-type": "application/json"})
        assert r.status_code in (404, 422), (body[:80], r.status_code, r.text)
        if r.status_code == 422:
            detail = r.json()["detail"]
            assert isinstance(detail, list) and detail[0]["loc"][0] == "body"
    assert len(env.get("/requests", "admin").json()) == before


def test_actions_never_500(env: Env) -> None:
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    req = env.create("esa_planner", ov["id"])
    for action in ("acknowledge", "reject", "cancel", "result"):
        user = "esa_planner" if action == "cancel" else "nasa_planner"
        for body in [*BODIES, b'{"version": 1.0}', b'{"version": "1"}', b'{"version": -1}',
                     b'{"version": 1, "returned_bits": -5, "forward_delivered": "yes"}',
                     b'{"version": 1, "returned_bits": 5, "forward_delivered": 1}',
                     b'{"version": 1, "start_utc": "2030-01-01T00:00:00Z"}',
                     b'{"version": 2**70}', b'{"version": 99999999999999999999999}']:
            r = env.post(f"/requests/{req['id']}/{action}", user, content=body,
                         headers={"content-type": "application/json"})
            assert r.status_code in (409, 422), (action, body[:60], r.status_code, r.text)
    assert env.get(f"/requests/{req['id']}", "admin").json() == req


@pytest.mark.parametrize("path", [
    "/requests/0", "/requests/-1", "/requests/99999999999999999999", "/requests/1.5",
    "/requests/%00", "/overflights/0", "/overflights/abc", "/overflights/99999999999",
    "/requests/1/files/abc", "/requests/1/files/0", "/overflights?limit=0",
    "/overflights?offset=-1", "/overflights?start=2030-02-30T00:00:00Z",
    "/overflights?orbiter=%00", "/requests?state=", "/requests?limit=abc", "/events?after=x",
    "/events?limit=5000", "/events?after=-5", "/accounting?start=nonsense",
    "/busy?orbiter=NOPE", "/busy?start=x", "/export/ssf?end=x", "/conflicts?orbiter=",
    "/audit?limit=0", "/nowhere",
])
def test_reads_never_500(env: Env, path: str) -> None:
    r = env.get(path, "admin")
    assert r.status_code in (200, 404, 422), (path, r.status_code, r.text)


def test_other_methods_and_content_types_never_500(env: Env) -> None:
    c, h = env.client, env.h("nasa_planner")
    assert c.put("/api/v1/orbiters/MRO/trajectory", headers=h, content=b"\x00\xff").status_code \
        == 422
    assert c.put("/api/v1/orbiters/MRO/trajectory", headers={
        **h, "content-type": "multipart/form-data; boundary=zz"}, content=b"--zz\r\nbroken"
    ).status_code == 422
    assert c.post("/api/v1/requests/1/files", headers={
        **env.h("esa_planner"), "content-type": "multipart/form-data; boundary=zz"},
        content=b"--zz\r\nbroken").status_code in (404, 422)
    assert c.delete("/api/v1/requests/1", headers=h).status_code == 405
    assert c.post("/api/v1/plan", headers=h, content=b"{").status_code == 422
    assert c.post("/api/v1/plan", headers=h, json={"orbiter": 5}).status_code == 422
    assert c.post("/api/v1/requests", headers={**h, "content-length": "abc"},
                  content=b"{}").status_code in (400, 422)
