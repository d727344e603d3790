"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright.

Opens report.html from file:// with no network, checks that every section is there, that every
plot rendered (plotly's ``.js-plotly-plot`` holding a ``.main-svg``), that the page logged no
error, and saves screenshots (into the test's temporary folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from helpers.report_synth import write_run
from helpers.system import CHROMIUM, CHROMIUM_ARGS, require_program
from marsrelay.cli.main import app
from marsrelay.report.html import SECTIONS

pytestmark = pytest.mark.browser

ARGS = CHROMIUM_ARGS


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    a = write_run(base / "a", "synth-a")
    b = write_run(base / "b", "synth-no-tgo", orbiters=("MRO",), seed=2,
                  conjunction=("2030-11-02T12:00:00Z", "2030-11-05T00:00:00Z"))
    c = write_run(base / "c", "contacts-only", simulation=False)
    out = {}
    runner = CliRunner()
    for key, dirs in (("one", [a]), ("two", [a, b]), ("contacts", [c])):
        path = base / f"{key}.html"
        res = runner.invoke(app, ["report", *map(str, dirs), "--out", str(path)])
        assert res.exit_code == 0, res.output
        out[key] = path
    return out


def _open(playwright, user_dir: Path):
    require_program(CHROMIUM, "apt-get install chromium")
    return playwright.chromium.launch_persistent_context(
        str(user_dir), executable_path=CHROMIUM, args=ARGS, headless=True,
        viewport={"width": 1280, "height": 900}, offline=True,
    )


def _check_page(ctx, path: Path, shot: Path) -> dict:
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    n_plots = page.locator("div.plot").count()
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=n_plots,
        timeout=30_000,
    )
    info = page.evaluate("""() => ({
        sections: Array.from(document.querySelectorAll('section.section')).map(s => ({
            id: s.id, key: s.dataset.section,
            plots: s.querySelectorAll('div.plot').length,
            rendered: s.querySelectorAll('div.plot .js-plotly-plot .main-svg').length > 0
                ? Array.from(s.querySelectorAll('div.plot')).filter(
                    p => p.querySelector('.js-plotly-plot .main-svg')).length : 0,
            missing: s.querySelectorAll('.missing').length,
            height: s.getBoundingClientRect().height})),
        plots: document.querySelectorAll('div.plot').length,
        traces: Array.from(document.querySelectorAll('.js-plotly-plot')).map(
            d => (d.data || []).length),
        title: document.title,
    })""")
    page.screenshot(path=str(shot), full_page=True)
    info["errors"] = errors
    info["requests"] = [u for u in requests if not u.startswith("file://")]
    page.close()
    return info


def test_report_renders_every_section_and_plot(reports, tmp_path):
    with sync_playwright() as p:
        ctx = _open(p, tmp_path / "profile")
        try:
            one = _check_page(ctx, reports["one"], tmp_path / "one.png")
            two = _check_page(ctx, reports["two"], tmp_path / "two.png")
            only = _check_page(ctx, reports["contacts"], tmp_path / "contacts.png")
        finally:
            ctx.close()
    for info in (one, two, only):
        assert info["errors"] == []
        assert info["requests"] == []  # nothing leaves the file
        for s in info["sections"]:
            assert s["plots"] == s["rendered"], s  # every plot in the section drew its SVG
            assert s["height"] > 80
    assert one["title"].startswith("synth-a")
    keys = [s["key"] for s in one["sections"]]
    assert keys == ["overview", *[k for k, _ in SECTIONS]]
    assert all(s["plots"] == 1 for s in one["sections"][1:])
    assert all(t > 0 for t in one["traces"])
    # two runs: a comparison section plus every section once per run
    keys2 = [s["key"] for s in two["sections"]]
    assert keys2[:2] == ["overview", "comparison"]
    assert keys2[2:] == [k for k, _ in SECTIONS] * 2
    # contacts only: latency and buffers say so instead of plotting
    missing = {s["key"] for s in only["sections"] if s["missing"]}
    assert missing == {"latency", "buffers"}
    assert (tmp_path / "one.png").stat().st_size > 50_000
