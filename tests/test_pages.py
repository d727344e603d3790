"""The relay coordination pages without a browser (the real app, its forms posted as a browser
would): log-in, session cookie and form tokens, throttled log-ins, the same permissions as the
API (not offered, and refused when forged, with nothing changed), the request form's predicted
share, the plan applied in one click, notifications, accounting, and pages written for the
strict Content Security Policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from helpers.pages_kit import PageClient, set_passwords
from helpers.service_kit import Env
from marsrelay.service.ratelimit import Limit, RateLimiter
from marsrelay.service.timefmt import format_ms, parse_ms
from marsrelay.service.web.throttle import LoginThrottle
from marsrelay.service.web.times import lmst_text

PAGES = ("/timeline", "/timeline?orbiter=MRO&span=180", "/requests", "/accounting",
         "/notifications", "/plan")


@pytest.fixture
def pages(env: Env):
    clients: dict[str, PageClient] = {}

    def client(user: str) -> PageClient:
        if user not in clients:
            set_passwords(env, user)
            c = PageClient(env)
            r = c.login(user)
            assert r.status_code == 303, r.text
            clients[user] = c
        return clients[user]

    yield client
    for c in clients.values():
        c.close()


def _shared_mro(env: Env) -> tuple[dict, dict]:
    return env.shared_overflights("MRO")


def _timeline_of(ov: dict) -> str:
    """The timeline page of the 3 hours around an overflight."""
    start = format_ms(parse_ms(ov["start_utc"]) // 3_600_000 * 3_600_000 - 3_600_000)
    return f"/timeline?orbiter={ov['orbiter']}&start={start}&span=180"


# -- log-in, sessions, form tokens -------------------------------------------------------------


def test_pages_need_a_session_and_the_cookie_is_strict(env: Env) -> None:
    set_passwords(env, "esa_planner")
    c = PageClient(env)
    r = c.get("/timeline?orbiter=MRO")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/timeline%3Forbiter%3DMRO"
    assert c.login("esa_planner", "wrong").status_code == 401
    r = c.login("esa_planner", next_path="/requests")
    assert r.status_code == 303 and r.headers["location"] == "/requests"
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("marsrelay_session="))
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain http here; https below
    assert c.get("/requests").status_code == 200
    # an absolute or scheme-relative next is not followed off-site
    evil = PageClient(env)
    assert evil.login("esa_planner", next_path="//evil.example/").headers["location"] == (
        "/timeline")
    # log-out ends the session on the server: the old cookie is worthless
    old = c.client.cookies.get("marsrelay_session")
    assert c.post("/logout", {}).status_code == 303
    other = PageClient(env)
    other.client.cookies.set("marsrelay_session", old)
    assert other.get("/requests").status_code == 303
    https = PageClient(env, base_url="https://testserver")
    r = https.login("esa_planner")
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("marsrelay_session="))
    assert "secure" in {f.strip().lower() for f in cookie.split(";")}
    for x in (c, other, https, evil):
        x.close()


def test_expired_sessions_and_foreign_login_forms_are_refused(env: Env) -> None:
    set_passwords(env, "esa_planner")
    c = PageClient(env)
    c.login("esa_planner")
    assert c.get("/requests").status_code == 200
    with env.service.db.engine.begin() as conn:
        conn.execute(text("UPDATE web_sessions SET expires_ms = :t"), {"t": parse_ms(
            "2000-01-01T00:00:00Z")})
    assert c.get("/requests").status_code == 303
    # a log-in form posted from elsewhere (no nonce cookie of this browser) is refused
    fresh = PageClient(env)
    r = fresh.client.post("/login", data={"username": "esa_planner", "form_token": "x" * 64,
                                          "password": "pw-esa_planner-Mars2030"})
    assert r.status_code == 403 and "marsrelay_session" not in r.headers.get("set-cookie", "")
    c.close()
    fresh.close()


def test_failed_logins_are_throttled_per_name_and_per_address(env: Env) -> None:
    set_passwords(env, "esa_planner", "nasa_planner")
    now = [1000.0]
    env.client.app.state.login_throttle = LoginThrottle(per_name=3, per_address=5,
                                                        window_s=60.0, clock=lambda: now[0])
    c = PageClient(env)
    for _ in range(3):
        assert c.login("esa_planner", "wrong").status_code == 401
    r = c.login("esa_planner")  # even the right password waits
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "60"
    retry = re.search(r'You can try again at <time datetime="([^"]+)"', r.text)
    assert retry and retry.group(1).endswith("Z")
    # another name from the same address still works until the address's limit
    assert c.login("nasa_planner").status_code == 303
    assert c.login("nasa_planner", "wrong").status_code == 401
    assert c.login("nasa_planner", "wrong").status_code == 401
    assert c.login("nasa_planner").status_code == 429  # 5 failures from this address
    now[0] += 61  # the window passes
    assert c.login("esa_planner").status_code == 303
    c.close()


def test_login_attempts_take_the_shared_bucket_per_user_name(env: Env) -> None:
    """Attempts (right or wrong) per user name are limited by the rate limiter that the
    ``serve --workers`` processes share; the answer is 429 with ``Retry-After``."""
    set_passwords(env, "esa_planner", "nasa_planner")
    now = [0.0]
    env.client.app.state.rate_limiter = RateLimiter({"login": Limit(0.5, 2)},
                                                    clock=lambda: now[0])
    c = PageClient(env)
    assert c.login("esa_planner").status_code == 303
    assert c.login("ESA_planner ", "wrong").status_code == 401  # same name, case and spaces
    r = c.login("esa_planner")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"  # 1 token at 0.5/s
    assert c.login("nasa_planner").status_code == 303  # another name has its own bucket
    now[0] += 2.0
    assert c.login("esa_planner").status_code == 303
    c.close()


def test_login_throttle_alone() -> None:
    now = [0.0]
    t = LoginThrottle(per_name=2, per_address=3, window_s=10.0, clock=lambda: now[0])
    assert t.retry_after("Ann", "a") is None
    t.failed("Ann", "a")
    now[0] = 4.0
    t.failed("ann ", "b")  # names are matched ignoring case and spaces
    assert t.retry_after("ANN", "c") == pytest.approx(6.0)  # the first failure leaves at 10
    t.failed("Bob", "a")
    t.failed("Cy", "a")  # address a: failures at 0, 4, 4
    assert t.retry_after("Dee", "a") == pytest.approx(6.0)
    assert t.retry_after("Dee", "d") is None
    now[0] = 10.0  # the failure at 0 has left both windows
    assert t.retry_after("Ann", "c") is None and t.retry_after("Dee", "a") is None
    t.failed("Ann", "c")
    assert t.retry_after("Ann", "c") == pytest.approx(4.0)  # failures at 4 and 10
    t.succeeded("ANN")
    assert t.retry_after("Ann", "c") is None


def test_a_form_without_its_token_is_refused_and_changes_nothing(env: Env, pages) -> None:
    esa_ov, _ = _shared_mro(env)
    esa = pages("esa_planner")
    nasa_token = pages("nasa_planner").csrf()
    before = env.snapshot()
    form = {"return_mbit": "10", "priority": "3"}
    assert esa.post(f"/overflights/{esa_ov['id']}", form, token=None).status_code == 403
    assert esa.post(f"/overflights/{esa_ov['id']}", form, token="0" * 43).status_code == 403
    # another user's token is not this session's
    assert esa.post(f"/overflights/{esa_ov['id']}", form, token=nasa_token).status_code == 403
    assert env.snapshot() == before
    r = esa.post(f"/overflights/{esa_ov['id']}", form)
    assert r.status_code == 303 and r.headers["location"].startswith("/requests/")


# -- permissions: not offered, refused when forged ----------------------------------------------


def test_forbidden_actions_are_not_offered_and_refused_when_forged(env: Env, pages) -> None:
    esa_ov, nasa_ov = _shared_mro(env)
    req = env.create("esa_planner", esa_ov["id"])
    rid = req["id"]
    viewer, esa, asi = pages("nasa_viewer"), pages("esa_planner"), pages("asi_planner")
    nasa = pages("nasa_planner")
    page = viewer.get(f"/requests/{rid}").text
    assert "<form method=\"post\" action=\"/requests/" not in page
    assert re.findall(r"<button[^>]*>", page) == ['<button type="submit" class="link">']  # log out
    assert "Request this pass" not in viewer.get(f"/overflights/{nasa_ov['id']}").text
    assert "/acknowledge" not in viewer.get("/requests").text
    assert "apply-plan" not in viewer.get("/plan").text
    nasa_page = nasa.get(f"/requests/{rid}").text
    assert f'action="/requests/{rid}/acknowledge"' in nasa_page
    assert f'action="/requests/{rid}/cancel"' not in nasa_page  # the lander's agency cancels
    assert "Request this pass" not in nasa.get(f"/overflights/{esa_ov['id']}").text
    before = env.snapshot()
    v = {"version": "1"}
    assert viewer.post(f"/requests/{rid}/acknowledge", v).status_code == 403
    assert esa.post(f"/requests/{rid}/acknowledge", v).status_code == 403
    assert nasa.post(f"/requests/{rid}/cancel", v).status_code == 403
    assert viewer.post(f"/overflights/{nasa_ov['id']}", {"return_mbit": "1"}).status_code == 403
    assert asi.post(f"/requests/{rid}/reject", {**v, "reason": "x"}).status_code == 404
    assert asi.get(f"/requests/{rid}").status_code == 404
    assert viewer.post("/plan/apply", {"orbiter": "MRO", "grant": f"{rid}|1|{req['start_utc']}|"
                                       f"{req['end_utc']}"}).status_code == 403
    assert env.snapshot() == before


# -- the request form, actions, plan, notifications, accounting --------------------------------


def test_request_form_shows_the_share_it_then_gets(env: Env, pages) -> None:
    esa_ov, _ = _shared_mro(env)
    esa = pages("esa_planner")
    a, b = parse_ms(esa_ov["start_utc"]), parse_ms(esa_ov["end_utc"])
    window = {"start_utc": format_ms(a + (b - a) // 3), "end_utc": format_ms(b - (b - a) // 4)}
    share = esa.get(f"/overflights/{esa_ov['id']}/share", params=window).json()
    assert share["ok"] and 0 < share["predicted_bits"] < esa_ov["predicted_bits"]
    whole = esa.get(f"/overflights/{esa_ov['id']}/share").json()
    assert whole["predicted_bits"] == esa_ov["predicted_bits"]
    preview = esa.post(f"/overflights/{esa_ov['id']}",
                       {**window, "return_mbit": "12.5", "preview": "1"})
    assert preview.status_code == 200
    assert f"{share['predicted_bits'] / 1e6:,.1f} Mbit predicted" in preview.text
    assert env.get("/requests", "esa_planner").json() == []  # a preview sends nothing
    bad = esa.get(f"/overflights/{esa_ov['id']}/share",
                  params={**window, "end_utc": format_ms(b + 1)})
    assert bad.status_code == 422 and "after the overflight's end" in bad.json()["text"]
    r = esa.post(f"/overflights/{esa_ov['id']}",
                 {**window, "return_mbit": "12.5", "forward_mbit": "0.25", "priority": "2",
                  "note": "sol 12"})
    assert r.status_code == 303
    created = env.get("/requests", "esa_planner").json()[0]
    assert created["predicted_bits"] == share["predicted_bits"]
    assert (created["return_bits"], created["forward_bits"]) == (12_500_000, 250_000)
    assert (created["start_utc"], created["end_utc"]) == (window["start_utc"], window["end_utc"])
    assert created["priority"] == 2 and created["note"] == "sol 12"
    # a window outside the pass is refused on the form, naming the field
    r = esa.post(f"/overflights/{esa_ov['id']}", {"start_utc": format_ms(a - 1),
                                                   "return_mbit": "1"})
    assert r.status_code == 422 and "Start (UTC)" in r.text


def test_negotiation_through_the_pages(env: Env, pages) -> None:
    esa_ov, nasa_ov = _shared_mro(env)
    need = min(esa_ov["predicted_bits"], nasa_ov["predicted_bits"]) // 3
    esa, nasa = pages("esa_planner"), pages("nasa_planner")
    mbit = f"{need / 1e6:.6f}"
    assert esa.post(f"/overflights/{esa_ov['id']}", {"return_mbit": mbit}).status_code == 303
    assert nasa.post(f"/overflights/{nasa_ov['id']}",
                     {"return_mbit": mbit, "priority": "1"}).status_code == 303
    a, b = sorted(r["id"] for r in env.get("/requests", "admin").json())
    queue = nasa.get("/requests").text
    assert queue.count('class="conflict"') == 2 and f'overlaps <a href="/requests/{a}">' in queue
    assert 'class="conflictband"' in nasa.get(_timeline_of(esa_ov)).text
    assert esa.get("/notifications/count").json()["unread"] >= 1
    plan = nasa.post("/plan", {"orbiter": "MRO"})
    assert plan.status_code == 200 and 'class="tag">split' in plan.text
    grants = re.findall(r'name="grant" value="([^"]+)"', plan.text)
    assert len(grants) == 2
    applied = nasa.post("/plan/apply", {"orbiter": "MRO", "grant": grants})
    assert applied.status_code == 200 and applied.text.count('class="ok"') == 2
    ra, rb = (env.get(f"/requests/{i}", "admin").json() for i in (a, b))
    assert ra["state"] == rb["state"] == "acknowledged"
    assert ra["end_utc"] <= rb["start_utc"] or rb["end_utc"] <= ra["start_utc"]  # split
    split_page = nasa.get(_timeline_of(esa_ov)).text
    assert 'class="conflictband"' not in split_page
    assert split_page.count("bar req st-acknowledged") == 2
    assert '<span class="tag">split' in split_page
    # applying the same plan again: the versions are stale, nothing changes
    before = env.snapshot()
    again = nasa.post("/plan/apply", {"orbiter": "MRO", "grant": grants})
    assert again.status_code == 409 and env.snapshot() == before
    # the result, then the accounting as the API gives it
    r = nasa.post(f"/requests/{a}/result", {"version": "2", "returned_mbit": "3.5",
                                            "forward_delivered": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/requests/{a}?done=implemented"
    done = env.get(f"/requests/{a}", "admin").json()
    assert (done["state"], done["returned_bits"], done["forward_delivered"]) == (
        "implemented", 3_500_000, True)
    acc = esa.get("/accounting").text
    row = env.get("/accounting", "esa_viewer").json()[0]
    assert (row["provider_agency"], row["user_agency"]) == ("NASA", "ESA")
    assert "<td>NASA</td><td>ESA</td><td>1</td>" in acc and "3.5 Mbit" in acc
    assert 'class="accbar ret"' in acc
    # reject with a reason, and a stale version on the form is a 409 with the reason shown
    r = esa.post(f"/overflights/{esa_ov['id']}", {"return_mbit": "1"})
    c = int(r.headers["location"].split("/")[2].split("?")[0])
    assert nasa.post(f"/requests/{c}/reject", {"version": "1"}).status_code == 422  # no reason
    stale = nasa.post(f"/requests/{c}/reject", {"version": "7", "reason": "MRO busy"})
    assert stale.status_code == 409 and "current version 1" in stale.text
    assert nasa.post(f"/requests/{c}/reject", {"version": "1", "reason": "MRO busy"}
                     ).status_code == 303
    assert env.get(f"/requests/{c}", "esa_planner").json()["reason"] == "MRO busy"


def test_cancel_and_forward_files_through_the_pages(env: Env, pages) -> None:
    esa_ov, _ = _shared_mro(env)
    req = env.create("esa_planner", esa_ov["id"])
    rid = req["id"]
    esa, viewer = pages("esa_planner"), pages("nasa_viewer")
    page = esa.get(f"/requests/{rid}").text
    limit = env.service.settings.max_file_bytes
    assert f'data-max-bytes="{limit}"' in page and f"({limit} bytes)" in page  # shown first
    content = bytes(range(256)) * 40
    token = esa.csrf(f"/requests/{rid}")
    r = esa.client.post(f"/requests/{rid}/files", data={"csrf_token": token},
                        files={"file": ("cmd.bin", content, "application/octet-stream")})
    assert r.status_code == 303 and r.headers["location"] == f"/requests/{rid}?done=file"
    files = env.get(f"/requests/{rid}/files", "esa_planner").json()
    assert len(files) == 1 and files[0]["size"] == len(content)
    got = viewer.get(f"/requests/{rid}/files/{files[0]['id']}")  # NASA sees MRO's requests
    assert got.status_code == 200 and got.content == content
    assert got.headers["x-checksum-sha256"] == files[0]["sha256"]
    # no token, or no right: refused, nothing stored
    r = esa.client.post(f"/requests/{rid}/files", files={"file": ("x.bin", b"x")})
    assert r.status_code == 403
    r = viewer.client.post(f"/requests/{rid}/files", data={"csrf_token": viewer.csrf()},
                           files={"file": ("x.bin", b"x")})
    assert r.status_code == 403
    assert len(env.get(f"/requests/{rid}/files", "esa_planner").json()) == 1
    # cancel from the list of ESA's requests, back to the list
    listing = esa.get("/requests").text
    assert f'action="/requests/{rid}/cancel"' in listing
    r = esa.post(f"/requests/{rid}/cancel", {"version": "1", "back": "/requests"})
    assert r.status_code == 303 and r.headers["location"] == "/requests?done=cancelled"
    assert env.get(f"/requests/{rid}", "esa_planner").json()["state"] == "cancelled"
    after = esa.get("/requests?done=cancelled").text
    assert f'action="/requests/{rid}/cancel"' not in after and "Request cancelled." in after
    assert 'type="file"' not in esa.get(f"/requests/{rid}").text  # no files for a dead request


def test_notifications_count_and_mark_read(env: Env, pages) -> None:
    esa_ov, _ = _shared_mro(env)
    esa, nasa = pages("esa_planner"), pages("nasa_planner")
    assert nasa.get("/notifications/count").json() == {"unread": 0}
    req = env.create("esa_planner", esa_ov["id"])
    env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1})
    assert nasa.get("/notifications/count").json() == {"unread": 2}
    page = nasa.get("/notifications").text
    assert page.count('<span class="tag">new</span>') == 2
    assert f"Request #{req['id']} on MRO was acknowledged" in page
    up_to = re.search(r'name="up_to" value="(\d+)"', page).group(1)
    assert nasa.post("/notifications/read", {"up_to": up_to}).status_code == 303
    assert nasa.get("/notifications/count").json() == {"unread": 0}
    assert "Nothing new since your last visit" in nasa.get("/notifications").text
    assert esa.get("/notifications/count").json() == {"unread": 2}  # read marks are per user
    assert pages("asi_planner").get("/notifications/count").json() == {"unread": 0}


# -- every page: CSP-clean HTML, labels, times in UTC, no 500 ----------------------------------


class _Audit(HTMLParser):
    """Collects what the CSP forbids and the form controls without a label."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[tuple[str, dict]] = []
        self.open_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.problems.append("inline <script>")
        if "style" in a:
            self.problems.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        for k, v in a.items():
            if k.startswith("on"):
                self.problems.append(f"event handler {k} on <{tag}>")
            if k in ("href", "src", "action") and (v or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")
            if k in ("href", "src") and (v or "").startswith(("http:", "https:", "//")):
                self.problems.append(f"asset from elsewhere: {v}")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append((tag, a))


def _audit(html: str) -> _Audit:
    audit = _Audit()
    audit.feed(html)
    return audit


def test_every_page_is_csp_clean_labelled_and_in_utc(env: Env, pages) -> None:
    esa_ov, nasa_ov = _shared_mro(env)
    req = env.create("esa_planner", esa_ov["id"])
    env.create("nasa_planner", nasa_ov["id"])
    seen = 0
    for user in ("esa_planner", "nasa_planner", "nasa_viewer", "admin"):
        c = pages(user)
        for path in (*PAGES, f"/requests/{req['id']}", f"/overflights/{esa_ov['id']}",
                     f"/overflights/{nasa_ov['id']}"):
            r = c.get(path)
            assert r.status_code == 200, (user, path, r.text[:300])
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            audit = _audit(r.text)
            assert audit.problems == [], (user, path)
            for tag, a in audit.controls:
                named = a.get("id") in audit.labels or a.get("aria-label") or a.get(
                    "aria-labelledby")
                assert named, (user, path, tag, a)
            seen += len(audit.controls)
            # every time on the page is UTC with Z: <time datetime> values and shown text
            for stamp in re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', r.text):
                assert stamp[0].endswith("Z") and stamp[1].endswith("Z"), stamp
    assert seen > 30
    login = PageClient(env).get("/login")
    assert _audit(login.text).problems == []


BAD_PAGE_INPUT = (
    "/timeline?orbiter=Nope", "/timeline?start=yesterday&span=5", "/overflights/abc",
    "/overflights/0", "/overflights/1/share?start_utc=x", "/requests/abc", "/requests/0",
    "/requests/1/files/abc", "/accounting?start=x", "/notifications?after=-3", "/plan?orbiter=X",
    "/timeline?start=9999-99-99T00:00:00Z", "/timeline?start=1800-01-01T00:00:00Z",
)


def test_bad_page_input_never_500(env: Env, pages) -> None:
    esa = pages("esa_planner")
    for path in BAD_PAGE_INPUT:
        r = esa.get(path)
        assert r.status_code in (200, 404, 422), (path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith(("text/html", "application/json")), path
    for path, form in (
        ("/overflights/1", {"return_mbit": "-1"}), ("/overflights/1", {"return_mbit": "1e999"}),
        ("/overflights/1", {"return_mbit": "abc", "priority": "9"}),
        ("/overflights/1", {"return_mbit": "1", "start_utc": "nope"}),
        ("/requests/1/acknowledge", {"version": "x"}), ("/requests/1/result", {}),
        ("/requests/1/frobnicate", {}), ("/plan", {"orbiter": "MRO", "start_utc": "x"}),
        ("/plan/apply", {"grant": "1|2"}), ("/notifications/read", {"up_to": "-1"}),
    ):
        r = esa.post(path, form)
        assert r.status_code in (303, 403, 404, 409, 422), (path, form, r.status_code,
                                                            r.text[:300])


def test_lmst_matches_the_mars24_worked_example() -> None:
    # Mars24 (Allison & McEwen 2000, algorithm C-2) worked example: at 2000-01-06T00:00:00 UTC
    # the mean solar time at the prime meridian is 23:59:39 (MSD 44795.9998).
    t = parse_ms("2000-01-06T00:00:00Z")
    assert lmst_text(t, 0.0) == "23:59"
    assert lmst_text(t, 180.0) == "11:59"  # 180 deg east: 12 h later
    assert lmst_text(t + 88_775_244, 0.0) == "23:59"  # one sol (88775.244 s) later
