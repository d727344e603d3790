"""The relay coordination pages in a real browser: Debian's Chromium driven by Playwright
against a real ``marsrelay serve`` on 127.0.0.1 (the service kit's small scenario, passwords
set with ``service add-user --password-stdin``).

An ESA planner and a NASA planner, each in their own browser context, negotiate an MRO pass
end to end: request (the predicted volume shown, and updated live, before sending), conflict
shown, the optimiser's split applied in one click, a third request rejected with a reason, the
result recorded, the accounting updated, the notifications read. A viewer sees no action
buttons; forged form posts (no token, or a token but no right) are refused and change nothing;
keyboard use and every control's accessible name are checked. No page logs a console error
(the pages run under the strict Content Security Policy, whose violations are console errors).

Screenshots go to the test's temporary folder; with ``MARSRELAY_SCREENSHOTS=DIR`` also to DIR
(``MARSRELAY_SCREENSHOTS=docs`` refreshes the README's ``docs/service-timeline.png``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from typer.testing import CliRunner

from helpers.pages_kit import PASSWORD
from helpers.service_kit import USERS, _free_port, wait_for
from helpers.system import CHROMIUM, CHROMIUM_ARGS, require_program
from marsrelay.cli.main import app
from marsrelay.service.timefmt import format_ms, parse_ms

pytestmark = pytest.mark.browser

#: Roles that name an interactive control (its accessible name must not be empty).
NAMED_ROLES = {"textbox", "combobox", "checkbox", "button", "link", "spinbutton", "radio",
               "listbox", "searchbox"}


@dataclass
class Served:
    base: str
    admin: dict[str, str]
    folder: Path
    shots: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def api(self, path: str, **params: str) -> object:
        r = httpx.get(f"{self.base}/api/v1{path}", headers=self.admin, params=params, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def shot(self, page: Page, name: str, **kw: object) -> Path:
        path = self.folder / name
        page.screenshot(path=str(path), **kw)
        self.shots.append(path)
        extra = os.environ.get("MARSRELAY_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(extra) / name)
        return path


@pytest.fixture(scope="module")
def served(tmp_path_factory, sqlite_template) -> Iterator[Served]:
    require_program(CHROMIUM, "apt-get install chromium")
    folder = tmp_path_factory.mktemp("pages-browser")
    db_path = folder / "service.db"
    shutil.copyfile(sqlite_template.url.removeprefix("sqlite:///"), db_path)
    db = f"sqlite:///{db_path}"
    runner = CliRunner()
    for user in ("esa_planner", "nasa_planner", "nasa_viewer"):
        agency, role = USERS[user]
        res = runner.invoke(app, ["service", "add-user", user, "--agency", agency, "--role", role,
                                  "--db", db, "--password-stdin"], input=PASSWORD(user) + "\n")
        assert res.exit_code == 0, res.output
    port = _free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "marsrelay"), "serve", "--db", db, "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None

    try:
        wait_for(up, 60, "marsrelay serve")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        yield Served(base, {"Authorization": f"Bearer {sqlite_template.tokens['admin']}"},
                     folder)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(served) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _context(browser: Browser, served: Served) -> BrowserContext:
    ctx = browser.new_context(base_url=served.base, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)

    def watch(page: Page) -> None:
        page.on("console", lambda m: served.errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: served.errors.append(f"{page.url}: {e}"))

    ctx.on("page", watch)
    return ctx


def _login_by_keyboard(page: Page, user: str, next_path: str = "/timeline") -> None:
    page.goto(next_path)
    assert "/login?next=" in page.url  # no session yet: the page sends us to log in
    expect(page.locator("#username")).to_be_focused()  # autofocus
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(PASSWORD(user))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    assert page.url.endswith(next_path), page.url


def _shared_mro(served: Served) -> tuple[dict, dict]:
    """The longest MRO pass seen by both landers: (Rosalind Franklin's, Sample Lander's)."""
    ovs = served.api("/overflights", orbiter="MRO")
    best = None
    for a in ovs:
        for b in ovs:
            if (a["lander"], b["lander"]) == ("Rosalind Franklin", "Sample Lander") and (
                    a["start_utc"] < b["end_utc"] and b["start_utc"] < a["end_utc"]) and (
                    best is None or a["duration_s"] > best[0]["duration_s"]):
                best = (a, b)
    assert best is not None
    return best


def _before(text: str, minutes: int) -> str:
    """A whole minute ``minutes`` before a UTC time (a view's start around a pass)."""
    return format_ms((parse_ms(text) - minutes * 60_000) // 60_000 * 60_000)


def _names(page: Page) -> list[tuple[str, str]]:
    """(role, accessible name) of every interactive node of the page's accessibility tree,
    as Chromium computes them."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("Accessibility.getFullAXTree")
    finally:
        cdp.detach()
    out = []
    for node in tree["nodes"]:
        role = (node.get("role") or {}).get("value", "")
        if role in NAMED_ROLES and not node.get("ignored"):
            out.append((role, (node.get("name") or {}).get("value", "").strip()))
    return out


def test_two_agencies_negotiate_a_pass_end_to_end(served: Served, browser: Browser) -> None:
    esa_ov, nasa_ov = _shared_mro(served)
    need_mbit = min(esa_ov["predicted_bits"], nasa_ov["predicted_bits"]) / 3e6
    esa_ctx, nasa_ctx = _context(browser, served), _context(browser, served)
    esa, nasa = esa_ctx.new_page(), nasa_ctx.new_page()
    _login_by_keyboard(esa, "esa_planner")
    _login_by_keyboard(nasa, "nasa_planner")
    expect(esa.locator("h1")).to_contain_text("Timeline of TGO")  # ESA's own orbiter first

    # ESA picks MRO and the 3 hours around the pass, then the pass itself in the chart
    esa.select_option("#orbiter", "MRO")
    esa.fill("#start", _before(esa_ov["start_utc"], 80))
    esa.select_option("#span", "180")
    esa.click("form.controls button[type=submit]")
    expect(esa.locator("h1")).to_contain_text("Timeline of MRO")
    esa.locator(f'svg a[href="/overflights/{esa_ov["id"]}"]').click()
    expect(esa.locator("h1")).to_contain_text(f"Overflight {esa_ov['id']}")
    share = esa.locator("output#share")
    whole = f"{esa_ov['predicted_bits'] / 1e6:,.1f} Mbit predicted"
    expect(share).to_contain_text(whole)  # shown before anything is sent
    esa.wait_for_selector("html[data-js=ready]", state="attached")  # the script is listening
    a, b = parse_ms(esa_ov["start_utc"]), parse_ms(esa_ov["end_utc"])
    later = format_ms(a + (b - a) // 2)
    esa.fill("#start_utc", later)  # the live preview asks the server for the new share
    part = httpx.get(f"{served.base}/overflights/{esa_ov['id']}/share",
                     params={"start_utc": later, "end_utc": esa_ov["end_utc"]},
                     cookies={c["name"]: c["value"] for c in esa_ctx.cookies()}).json()
    expect(share).to_have_text(part["text"])
    assert part["predicted_bits"] < esa_ov["predicted_bits"]
    esa.fill("#start_utc", esa_ov["start_utc"])
    expect(share).to_contain_text(whole)
    esa.fill("#return_mbit", f"{need_mbit:.3f}")
    esa.select_option("#priority", "2")
    esa.click("#submit-request")
    expect(esa.locator("p.ok")).to_contain_text("Request sent")
    req_a = int(esa.url.split("/requests/")[1].split("?")[0])

    # NASA asks for the same pass for its own lander: a conflict on its orbiter
    nasa.goto(f"/overflights/{nasa_ov['id']}")
    nasa.fill("#return_mbit", f"{need_mbit:.3f}")
    nasa.select_option("#priority", "1")
    nasa.click("#submit-request")
    expect(nasa.locator("p.ok")).to_contain_text("Request sent")
    req_b = int(nasa.url.split("/requests/")[1].split("?")[0])
    nasa.get_by_role("link", name="Requests", exact=True).click()
    row = nasa.locator("tr.conflict", has=nasa.locator(f'a[href="/requests/{req_a}"]')).first
    expect(row).to_contain_text(f"overlaps #{req_b}")
    window = f"/timeline?orbiter=MRO&start={_before(esa_ov['start_utc'], 12)}&span=30"
    nasa.goto(window)
    expect(nasa.locator("svg .conflictband")).to_have_count(1)
    served.shot(nasa, "timeline-conflict.png", full_page=True)

    # NASA lets the optimiser split the pass and applies the plan in one click
    nasa.get_by_role("link", name="Plan", exact=True).click()
    nasa.select_option("#orbiter", "MRO")
    nasa.click("#make-plan")
    expect(nasa.locator("table.data")).to_contain_text("split")
    nasa.click("#apply-plan")
    expect(nasa.locator("ul.outcomes li.ok")).to_have_count(2)
    ra, rb = (served.api(f"/requests/{i}") for i in (req_a, req_b))
    assert ra["state"] == rb["state"] == "acknowledged"
    assert ra["end_utc"] <= rb["start_utc"] or rb["end_utc"] <= ra["start_utc"]

    # ESA asks for more of the same pass (the second half): a new conflict beside the split
    esa.goto(f"/overflights/{esa_ov['id']}")
    esa.get_by_role("link", name="second half").click()
    esa.fill("#return_mbit", "5")
    esa.click("#submit-request")
    expect(esa.locator("p.ok")).to_contain_text("Request sent")
    req_c = int(esa.url.split("/requests/")[1].split("?")[0])
    nasa.goto(window)
    expect(nasa.locator("svg rect.bar.req.st-acknowledged.split")).to_have_count(2)
    expect(nasa.locator("svg rect.bar.req.st-requested")).to_have_count(1)
    expect(nasa.locator("svg .conflictband")).not_to_have_count(0)
    bottom = nasa.locator("#conflicts-h").locator("..").bounding_box()
    served.shot(nasa, "service-timeline.png",
                clip={"x": 0, "y": 0, "width": 1280, "height": bottom["y"] + bottom["height"]})

    # NASA rejects the extra request with a reason and records the result of ESA's pass
    nasa.goto(f"/requests/{req_c}")
    nasa.fill("#reason", "MRO already serves both landers on this pass")
    nasa.get_by_role("button", name="Reject").click()
    expect(nasa.locator("p.ok")).to_contain_text("Rejected")
    nasa.goto(f"/requests/{req_a}")
    nasa.fill("#returned_mbit", "42.5")
    nasa.check("#forward_delivered")
    nasa.get_by_role("button", name="Record result").click()
    expect(nasa.locator("p.ok")).to_contain_text("Result recorded")
    assert served.api(f"/requests/{req_a}")["returned_bits"] == 42_500_000

    # ESA sees the account and its notifications
    esa.get_by_role("link", name="Accounting").click()
    expect(esa.locator("#pairs tbody tr")).to_have_count(1)
    expect(esa.locator("#pairs tbody tr")).to_contain_text("NASA")
    expect(esa.locator("#pairs tbody tr")).to_contain_text("42.5 Mbit")
    expect(esa.locator("#totals tr.own")).to_contain_text("ESA")
    expect(esa.locator("svg.accplot rect.accbar.ret")).to_have_count(1)
    served.shot(esa, "accounting.png", full_page=True)
    esa.reload()
    badge = esa.locator("#unread")
    assert int(badge.inner_text()) >= 3  # acknowledged, rejected, implemented
    esa.get_by_role("link", name="Notifications").click()
    expect(esa.locator("ol.events")).to_contain_text(f"Request #{req_c} on MRO was rejected")
    esa.click("#mark-read")
    expect(badge).to_have_text("0")
    served.shot(esa, "notifications.png", full_page=True)
    esa_ctx.close()
    nasa_ctx.close()
    assert served.errors == []


def test_a_viewer_sees_no_action_buttons_and_forgeries_change_nothing(
        served: Served, browser: Browser) -> None:
    esa_ov, nasa_ov = _shared_mro(served)
    ctx = _context(browser, served)
    page = ctx.new_page()
    _login_by_keyboard(page, "nasa_viewer", "/requests")
    rows = served.api("/requests")
    assert rows, "runs after the negotiation test: requests exist"
    rid = rows[0]["id"]
    for path in ("/requests", f"/requests/{rid}", f"/overflights/{nasa_ov['id']}",
                 f"/timeline?orbiter=MRO&start={_before(esa_ov['start_utc'], 25)}&span=60",
                 "/accounting", "/notifications"):
        page.goto(path)
        # buttons only in the filters (GET forms); no form that changes a record
        writes = page.locator('main form[method=post]:not([action="/notifications/read"])')
        assert writes.count() == 0, (path, writes.first.get_attribute("action"))
        expect(page.locator("main button")).to_have_count(
            page.locator("main form[method=get] button").count()
            + page.locator("#mark-read").count())
        for name in ("Acknowledge", "Reject", "Cancel", "Record result", "Send the request",
                     "Attach", "Apply this plan"):
            expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.goto("/plan")  # a viewer of MRO's agency may see a proposal, not apply one
    page.click("#make-plan")
    expect(page.locator("h2#plan-h")).to_be_visible()
    expect(page.locator("#apply-plan")).to_have_count(0)
    served.shot(page, "viewer-plan.png", full_page=True)
    before = served.api("/requests")
    token = page.locator("input[name=csrf_token]").first.input_value()
    live = next(r for r in before if r["state"] == "acknowledged")
    for form in ({"version": str(live["version"])},
                 {"version": str(live["version"]), "csrf_token": token}):
        r = page.request.post(f"/requests/{live['id']}/cancel", form=form, max_redirects=0)
        assert r.status == 403, r.text()  # no token; then a token but no right
    ctx.close()
    # a planner's forged post without the token (the browser sends the session cookie)
    esa_ctx = _context(browser, served)
    esa = esa_ctx.new_page()
    _login_by_keyboard(esa, "esa_planner", "/requests")
    r = esa.request.post(f"/overflights/{esa_ov['id']}", form={"return_mbit": "1"},
                         max_redirects=0)
    assert r.status == 403 and "security token" in r.text()
    r = esa.request.post(f"/requests/{live['id']}/cancel",
                         form={"version": str(live["version"])}, max_redirects=0)
    assert r.status == 403
    assert served.api("/requests") == before
    esa_ctx.close()
    assert served.errors == []


def test_keyboard_use_and_accessible_names(served: Served, browser: Browser) -> None:
    esa_ov, _ = _shared_mro(served)
    ctx = _context(browser, served)
    page = ctx.new_page()
    start = _before(esa_ov["start_utc"], 25)
    _login_by_keyboard(page, "esa_planner", f"/timeline?orbiter=MRO&start={start}&span=60")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # tab on to the first overflight in the chart and open it with Enter
    for _ in range(60):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href.startswith("/overflights/"):
            break
    else:
        pytest.fail("no overflight of the chart took the keyboard focus")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    # the request form in reading order, by keyboard alone
    page.focus("#start_utc")
    order = []
    for _ in range(8):
        order.append(page.evaluate("document.activeElement.id || document.activeElement."
                                   "textContent.trim()"))
        page.keyboard.press("Tab")
    assert order == ["start_utc", "end_utc", "return_mbit", "forward_mbit", "priority", "note",
                     "Show the predicted volume", "submit-request"]
    for label, field_id in (("Start (UTC)", "start_utc"), ("End (UTC)", "end_utc"),
                            ("Volume to return (Mbit)", "return_mbit"),
                            ("Priority", "priority"), ("Note", "note")):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("id", field_id)
    # every interactive node of every page has an accessible name (Chromium's own tree)
    rid = served.api("/requests")[0]["id"]
    for path in (f"/timeline?orbiter=MRO&start={start}&span=60", page.url, "/requests",
                 f"/requests/{rid}", "/plan", "/accounting", "/notifications"):
        page.goto(path)
        names = _names(page)
        assert len(names) > 5, path
        unnamed = [role for role, name in names if not name]
        assert unnamed == [], (path, unnamed)
    page.goto("/timeline")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?out=1")
    login = _names(page)
    assert ("textbox", "User name") in login and ("button", "Log in") in login
    ctx.close()
    assert served.errors == []
