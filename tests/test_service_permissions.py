"""The permission matrix against the real app: every role x every action x own/other agency,
asserting the status and that a refused call changed nothing in the database.

The expected outcome is written out here from the spec's rules ("Who may do what"), not taken
from the service's own permission module.
"""

from __future__ import annotations

import pytest

from helpers.service_kit import USERS, Env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: The two kinds of request: ESA's lander on NASA's orbiter, NASA's lander on ESA's orbiter.
TARGETS = {
    "esa_lander_on_mro": {"lander": "Rosalind Franklin", "orbiter": "MRO",
                          "lander_agency": "ESA", "orbiter_agency": "NASA"},
    "nasa_lander_on_tgo": {"lander": "Sample Lander", "orbiter": "TGO",
                           "lander_agency": "NASA", "orbiter_agency": "ESA"},
}
OWNER = {"ESA": "esa_planner", "NASA": "nasa_planner"}


def expected(user: str, action: str, target: dict) -> int:
    agency, role = USERS[user]
    visible = role == "admin" or agency in (target["lander_agency"], target["orbiter_agency"])
    lander_planner = role == "planner" and agency == target["lander_agency"]
    orbiter_planner = role == "planner" and agency == target["orbiter_agency"]
    if action == "create":
        return 201 if lander_planner else 403
    if action == "attach_file":
        return 404 if not visible else (201 if lander_planner else 403)
    if action == "cancel":
        return 404 if not visible else (200 if lander_planner else 403)
    if action in ("acknowledge", "reject", "result"):
        return 404 if not visible else (200 if orbiter_planner else 403)
    if action == "read":
        return 200 if visible else 404
    if action == "publish_trajectory":
        return 200 if orbiter_planner else 403
    if action == "plan":
        return 200 if role == "admin" or agency == target["orbiter_agency"] else 403
    raise AssertionError(action)


def _new_request(env: Env, target: dict, k: int, state: str = "requested") -> dict:
    ov = env.overflights(orbiter=target["orbiter"], lander=target["lander"])[k]
    req = env.create(OWNER[target["lander_agency"]], ov["id"])
    if state == "acknowledged":
        r = env.post(f"/requests/{req['id']}/acknowledge", OWNER[target["orbiter_agency"]],
                     {"version": 1})
        assert r.status_code == 200, r.text
        req = r.json()
    return req


def _call(env: Env, user: str, action: str, target: dict, k: int):
    if action == "create":
        ov = env.overflights(orbiter=target["orbiter"], lander=target["lander"])[k]
        return env.post("/requests", user, {"overflight_id": ov["id"], "return_bits": 1000})
    if action == "publish_trajectory":
        elements = {"a_km": 3796.19, "i_deg": 74.0, "raan_deg": 30.0} if target[
            "orbiter"] == "TGO" else {"a_km": 3683.69, "e": 0.008823, "i_deg": 92.6,
                                      "raan_deg": 320.5, "argp_deg": 270.0,
                                      "mean_anomaly_deg": 90.0}
        return env.client.put(f"/api/v1/orbiters/{target['orbiter']}/trajectory",
                              json=elements, headers=env.h(user))
    assert action == "plan", action
    return env.post("/plan", user, {"orbiter": target["orbiter"]})


ACTIONS = ["read", "create", "cancel", "acknowledge", "reject", "result", "attach_file",
           "plan", "publish_trajectory"]


@pytest.mark.parametrize("user", list(USERS))
def test_permission_matrix(env: Env, user: str) -> None:
    k = 0
    for target_name, target in TARGETS.items():
        for action in ACTIONS:
            # set-up writes (a request to act on) happen before the snapshot
            if action in ("create", "plan", "publish_trajectory"):
                before = env.snapshot()
                response = _call(env, user, action, target, k % 4)
            else:
                ov = env.overflights(orbiter=target["orbiter"], lander=target["lander"])
                req = _new_request(env, target, k % len(ov),
                                   "acknowledged" if action == "result" else "requested")
                before = env.snapshot()
                response = _call_on(env, user, action, req)
            want = expected(user, action, target)
            assert response.status_code == want, (user, target_name, action, response.text)
            if want >= 400:
                assert env.snapshot() == before, (user, target_name, action)
            elif action not in ("read", "plan"):
                assert env.snapshot() != before
            k += 1
            if action in ("create",) and response.status_code == 201:
                env.post(f"/requests/{response.json()['id']}/cancel",
                         OWNER[target["lander_agency"]], {"version": 1})


def _call_on(env: Env, user: str, action: str, req: dict):
    rid, v = req["id"], req["version"]
    if action == "read":
        return env.get(f"/requests/{rid}", user)
    if action == "attach_file":
        return env.post(f"/requests/{rid}/files", user, files={"file": ("f", b"data", "x/y")})
    body = {"acknowledge": {"version": v}, "reject": {"version": v, "reason": "no"},
            "cancel": {"version": v},
            "result": {"version": v, "returned_bits": 1, "forward_delivered": False}}[action]
    return env.post(f"/requests/{rid}/{action}", user, body)
