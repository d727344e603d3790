"""One self-contained HTML report of one or more runs (no network needed to view it).

:func:`write_report` reads each run directory (:mod:`marsrelay.report.rundir`), summarises it
(:mod:`marsrelay.report.summary`) and writes a single page: summary cards, the contact timeline,
data returned per sol, latency, buffer occupancy, a map of Mars with the orbiters' ground tracks,
the Earth-Mars geometry, and the comparison when several runs are given. plotly.js is inlined
once; a section whose input the run did not write says "not computed in this run".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from marsrelay import __version__
from marsrelay.io import atomic_write_text
from marsrelay.report.compare import (
    Comparison,
    compare_summaries,
    format_delta,
    format_value,
)
from marsrelay.report.figures import (
    FONT,
    NodeColors,
    buffer_figure,
    comparison_figure,
    earth_mars_figure,
    latency_figure,
    map_figure,
    node_colors,
    per_sol_figure,
    timeline_figure,
)
from marsrelay.report.run_data import RunData, load_run, tdb_to_plot_time
from marsrelay.report.summary import Summary, summarise_run
from marsrelay.rundir.schema import SCENARIO_JSON

__all__ = ["SECTIONS", "build_report_html", "write_report"]

#: Per-run sections of the report, in page order: (key, title).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("timeline", "Contact timeline"),
    ("per-sol", "Data per sol"),
    ("latency", "Latency"),
    ("buffers", "Buffer occupancy"),
    ("map", "Mars map"),
    ("earth-mars", "Earth–Mars geometry"),
)

_PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


class _Figures:
    """Turns figures into HTML in page order; plotly.js goes inline with the first one."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure, div_id: str) -> str:
        height = int(fig.layout.height or 400)
        out = fig.to_html(
            full_html=False,
            include_plotlyjs=self.count == 0,
            div_id=div_id,
            config=_PLOT_CONFIG,
            default_height=f"{height}px",
            default_width="100%",
        )
        self.count += 1
        return f'<div class="plot" data-plot="{_esc(div_id)}">{out}</div>'


def _fmt_utc(tdb_s: float) -> str:
    return str(tdb_to_plot_time(np.array([tdb_s]))[0])[:16].replace("T", " ")


def _missing(what: str, needs: str) -> str:
    return (f'<div class="missing"><span class="missing-tag">not computed in this run</span>'
            f"{_esc(what)} needs <code>{_esc(needs)}</code>.</div>")


# ---------------------------------------------------------------------------------------------
# overview cards


def _num(v: float | None, decimals: int) -> str | None:
    if v is None or not math.isfinite(v):
        return None
    return f"{v:,.{decimals}f}"


def _card(label: str, unit: str, entries: list[tuple[str | None, str | None]],
          sub: str, colors: NodeColors, extra_class: str = "") -> str:
    """A summary card: one big number, or one line per lander with its colour chip."""
    have = [(n, v) for n, v in entries if v is not None]
    head = f'<div class="card-label">{_esc(label)}</div>'
    if not have:
        body = '<div class="card-value none">not computed</div>'
    elif len(entries) == 1:
        body = (f'<div class="card-value">{_esc(have[0][1])}'
                f'<span class="unit">{_esc(unit)}</span></div>')
    else:
        rows = "".join(
            f'<li><span class="chip" style="background:{colors(n or "")}"></span>'
            f'<span class="who">{_esc(n)}</span><span class="val">{_esc(v or "—")}</span></li>'
            for n, v in entries
        )
        body = f'<ul class="card-list">{rows}</ul><div class="card-unit">{_esc(unit)}</div>'
    return (f'<div class="card {extra_class}">{head}{body}'
            f'<div class="card-sub">{_esc(sub)}</div></div>')


def _source(s: Summary, key: str) -> str:
    return dict(s.sources).get(key, "")


def _cards(s: Summary, colors: NodeColors) -> str:
    lf = s.landers
    no_contacts = s.n_contacts is None
    need = "needs contacts.csv (contacts stage)"
    cards = [
        _card("Relay passes", "per sol", [(f.lander, _num(f.passes_per_sol, 1)) for f in lf],
              need if no_contacts else "proximity passes per lander", colors),
        _card("Contact time", "min / sol",
              [(f.lander, _num(f.contact_min_per_sol, 0)) for f in lf],
              need if no_contacts else "summed pass length per lander", colors),
    ]
    cards.append(_card("Data returned", "Mbit / sol",
                       [(f.lander, _num(f.returned_mbit_per_sol, 0)) for f in lf],
                       f"delivered to Earth · {_source(s, 'data returned')}"
                       if _source(s, "data returned") else "needs the simulation stage",
                       colors, "accent"))
    cards.append(_card("Link capacity", "Mbit / sol",
                       [(f.lander, _num(f.capacity_mbit_per_sol, 0)) for f in lf],
                       f"relay volume offered · {_source(s, 'link capacity')}"
                       if _source(s, "link capacity") else "needs the links stage", colors))
    lat = None
    if s.latency_p50_h is not None and s.latency_p95_h is not None:
        lat = f"{s.latency_p50_h:.1f} / {s.latency_p95_h:.1f}"
    cards += [
        _card("Latency p50 / p95", "h", [(None, lat)],
              _source(s, "latency") or "needs bundles.parquet", colors),
        _card("Sols with no contact", "sols",
              [(f.lander, None if f.sols_without_contact is None
                else f"{f.sols_without_contact} of {f.whole_sols}") for f in lf],
              need if no_contacts else "whole local sols without any pass", colors),
        _card("Longest Earth gap", "h", [(None, _num(s.longest_earth_gap_h, 1))],
              need if no_contacts else "no Earth link open at all", colors),
        _card("Conjunction outage", "days", [(None, _num(s.conjunction_outage_days, 1))],
              _source(s, "conjunction outage") or "no conjunction windows in this run", colors),
    ]
    return f'<div class="cards">{"".join(cards)}</div>'


def _chips(names: Sequence[str], colors: NodeColors, kind: str) -> str:
    if not names:
        return ""
    chips = "".join(
        f'<span class="node"><span class="chip" style="background:{colors(n)}"></span>'
        f"{_esc(n)}</span>" for n in names
    )
    return f'<div class="nodes"><span class="nodes-kind">{_esc(kind)}</span>{chips}</div>'


def _overview(run: RunData, s: Summary, colors: NodeColors, several: bool) -> str:
    info = run.scenario
    title = f"<h3>{_esc(s.name)}</h3>" if several else ""
    desc = f'<p class="desc">{_esc(info.description)}</p>' if (info.description and several) else ""
    span = (f'<p class="span">{_esc(_fmt_utc(s.start_tdb_s))} → {_esc(_fmt_utc(s.end_tdb_s))} UTC'
            f" · {s.span_days:.1f} days · {s.n_sols:.1f} sols"
            + (f" · {s.n_contacts:,} contact windows" if s.n_contacts is not None else "")
            + "</p>")
    nodes = (_chips([o.name for o in info.orbiters], colors, "orbiters")
             + _chips([o.name for o in info.landers], colors, "landers")
             + _chips([o.name for o in info.stations], colors, "stations"))
    return f'<div class="run-overview">{title}{desc}{span}{nodes}{_cards(s, colors)}</div>'


# ---------------------------------------------------------------------------------------------
# comparison table


def _comparison_table(comp: Comparison) -> str:
    head = '<th class="fig">figure</th><th class="unit">unit</th>'
    for k, n in enumerate(comp.names):
        head += f'<th class="num">{_esc(n)}' + (' <span class="ref">reference</span>' if k == 0
                                                 else "") + "</th>"
    body = []
    group = None
    ncol = 2 + len(comp.names)
    for r in comp.rows:
        g = r.lander or "whole run"
        if g != group:
            group = g
            body.append(f'<tr class="group"><td colspan="{ncol}">{_esc(g)}</td></tr>')
        cells = [f'<td class="fig">{_esc(r.metric.label)}</td>',
                 f'<td class="unit">{_esc(r.metric.unit)}</td>']
        verdicts = r.verdicts()
        for k, v in enumerate(r.values):
            txt = format_value(v, r.metric)
            delta = ""
            if k > 0 and r.deltas[k] is not None:
                delta = (f' <span class="delta {verdicts[k]}">'
                         f"{_esc(format_delta(r.deltas[k], r.metric))}</span>")
            cls = "num none" if v is None else "num"
            cells.append(f'<td class="{cls}">{_esc(txt)}{delta}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap"><table class="compare"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


# ---------------------------------------------------------------------------------------------
# page


def _section(sid: str, key: str, title: str, intro: str, content: str) -> str:
    return (f'<section class="section" id="{_esc(sid)}" data-section="{_esc(key)}">'
            f'<div class="section-head"><h2>{_esc(title)}</h2>'
            f'<p class="intro">{intro}</p></div>{content}</section>')


def _run_sections(run: RunData, slug: str, colors: NodeColors, figs: _Figures,
                  map_sol: int) -> list[tuple[str, str, str]]:
    """HTML of each per-run section: (section id, title, html)."""
    out: list[tuple[str, str, str]] = []

    def add(key: str, title: str, intro: str, content: str) -> None:
        sid = f"{slug}-{key}"
        out.append((sid, title, _section(sid, key, title, intro, content)))

    fig = timeline_figure(run, colors)
    sched = " Solid bars: passes the schedule selected; faded: visible but unused." if (
        run.schedule is not None) else ""
    add("timeline", "Contact timeline",
        "Every visibility window per pair, coloured by orbiter (proximity and orbiter–Earth) "
        "or lander (direct-to-Earth). Drag to zoom, use the slider for the whole span." + sched,
        figs.html(fig, f"{slug}-timeline-plot") if fig is not None
        else _missing("The timeline", "contacts.csv or contacts.parquet"))

    res = per_sol_figure(run, colors)
    if res is not None:
        fig, what = res
        add("per-sol", "Data per sol",
            f"Per local sol and lander: {_esc(what)}. Sols run from LMST midnight at each lander.",
            figs.html(fig, f"{slug}-per-sol-plot"))
    else:
        add("per-sol", "Data per sol", "Per local sol and lander.",
            _missing("Data per sol", "delivery.csv, volumes_per_sol.csv or contacts"))

    fig = latency_figure(run, colors)
    add("latency", "Latency",
        "Time from a bundle's creation on the lander to its delivery on Earth.",
        figs.html(fig, f"{slug}-latency-plot") if fig is not None
        else _missing("The latency distribution", "bundles.parquet (simulation stage)"))

    res = buffer_figure(run, colors)
    if res is not None:
        fig, src = res
        add("buffers", "Buffer occupancy", f"Data stored per node over time ({_esc(src)}).",
            figs.html(fig, f"{slug}-buffers-plot"))
    else:
        add("buffers", "Buffer occupancy", "Data stored per node over time.",
            _missing("Buffer occupancy", "buffers.parquet or bundles.parquet (simulation stage)"))

    res = map_figure(run, colors, map_sol)
    if res is not None:
        fig, caption = res
        add("map", "Mars map",
            f"Landers and orbiter ground tracks, {_esc(caption)}. Bold: the orbiter is in a "
            "relay pass with a lander (contact table). Dotted rings: where a near-circular "
            "orbiter's ground track must pass for the lander to see it above its mask.",
            figs.html(fig, f"{slug}-map-plot"))
    else:
        add("map", "Mars map", "Landers and orbiter ground tracks.",
            _missing("The map", "scenario.json with landers or orbiters"))

    fig = earth_mars_figure(run)
    add("earth-mars", "Earth–Mars geometry",
        "Distance and Sun–Earth–Mars angle over the span (DE421). Earth links are blocked "
        f"below the scenario's threshold of {run.scenario.conjunction_sep_deg:g}°.",
        figs.html(fig, f"{slug}-earth-mars-plot") if fig is not None
        else _missing("The Earth–Mars plot", "a span inside DE421 (1900–2050)"))
    return out


def build_report_html(runs: Sequence[RunData], map_sol: int = 0) -> str:
    """The report page for loaded runs (first = reference of the comparison), as HTML text."""
    if not runs:
        raise ValueError("no runs to report")
    colors = node_colors(runs)
    summaries = [summarise_run(r) for r in runs]
    several = len(runs) > 1
    figs = _Figures()
    slugs: list[str] = []
    for r in runs:
        s = _slug(r.name)
        while s in slugs:
            s += "-b"
        slugs.append(s)

    nav: list[tuple[str, str]] = [("overview", "Overview")]
    parts: list[str] = []
    overview = "".join(_overview(r, s, colors, several) for r, s in zip(runs, summaries,
                                                                        strict=True))
    parts.append(_section("overview", "overview", "Overview",
                          "The figures that matter, from this run's stage outputs.", overview))
    if several:
        comp = compare_summaries(summaries)
        fig = comparison_figure(comp)
        content = _comparison_table(comp)
        if fig is not None:
            content += figs.html(fig, "comparison-plot")
        parts.append(_section(
            "comparison", "comparison", "Comparison",
            f"Each scenario against <b>{_esc(comp.names[0])}</b>; green is better, red worse.",
            content))
        nav.append(("comparison", "Comparison"))
    for run, slug in zip(runs, slugs, strict=True):
        secs = _run_sections(run, slug, colors, figs, map_sol)
        if several:
            parts.append(f'<div class="run-divider" id="{_esc(slug)}"><span>scenario</span>'
                         f"<h2>{_esc(run.name)}</h2></div>")
            nav.append((slug, run.name))
        else:
            nav += [(sid, title) for sid, title, _ in secs]
        parts += [h for _, _, h in secs]

    first = runs[0].scenario
    title = " vs ".join(r.name for r in runs) if several else first.name
    lede = "" if several else _esc(first.description)
    files = "".join(
        f"<li><code>{_esc(r.run_dir)}</code>: {_esc(', '.join(_files_read(r)) or 'no tables')}"
        f"</li>" for r in runs
    )
    nav_html = "".join(f'<a href="#{_esc(i)}">{_esc(t)}</a>' for i, t in nav)
    return _PAGE.format(
        title=_esc(title),
        lede=f'<p class="lede">{lede}</p>' if lede else "",
        meta=_esc(f"{len(runs)} run{'s' if several else ''} · "
                  f"{_fmt_utc(first.start_tdb_s)} → {_fmt_utc(first.end_tdb_s)} UTC"),
        nav=nav_html,
        body="\n".join(parts),
        files=files,
        version=_esc(__version__),
        css=_CSS.replace("__FONT__", FONT),
    )


def _files_read(run: RunData) -> list[str]:
    tables = (run.contacts, run.volumes, run.schedule, run.bundles, run.delivery, run.buffers,
              run.conjunction)
    names = [t.path.name for t in tables if t is not None]
    return [SCENARIO_JSON, *names]


def write_report(
    run_dirs: Sequence[str | Path],
    out_file: str | Path,
    *,
    map_sol: int = 0,
    loader: Callable[[str | Path], RunData] = load_run,
) -> Path:
    """Write one self-contained ``report.html`` for run directories (first = reference).

    ``map_sol``: which whole local sol of the span (0 = the first) the map's ground tracks
    show. Raises :class:`~marsrelay.errors.InputError` for a missing or foreign directory.
    Returns the path written (atomically).
    """
    runs = [loader(d) for d in run_dirs]
    return atomic_write_text(out_file, build_report_html(runs, map_sol=map_sol))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="marsrelay {version}">
<title>{title} · marsrelay report</title>
<style>{css}</style>
</head>
<body>
<header class="masthead">
  <div class="wrap">
    <div class="brand"><span class="planet"></span>marsrelay <span class="brand-sub">relay
    communications report</span></div>
    <h1>{title}</h1>
    {lede}
    <p class="meta">{meta}</p>
  </div>
</header>
<nav class="toc"><div class="wrap">{nav}</div></nav>
<main class="wrap">
{body}
</main>
<footer class="wrap">
  <p>Generated by marsrelay {version}. Tables and cards summarise the stage outputs of each
  run; only the map and the Earth–Mars plot compute geometry (DE421, IAU rotation model of the
  scenario). Times in UTC.</p>
  <ul>{files}</ul>
</footer>
</body>
</html>
"""

_CSS = """
:root {
  --ink: #1f2933; --muted: #52606d; --faint: #7b8794; --line: #e4e7eb; --bg: #f5f7fa;
  --paper: #ffffff; --accent: #c2410c; --accent-soft: #fff4ed; --good: #1b7f3b;
  --bad: #b42318; --mars: #b5532d;
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font-family: __FONT__; font-size: 15px; line-height: 1.55;
  -webkit-font-smoothing: antialiased; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 28px; }
code { font-family: "JetBrains Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.88em; background: #eef2f6; padding: 1px 5px; border-radius: 4px; }
.masthead { background: linear-gradient(180deg, #ffffff 0%, #fbf3ee 100%);
  border-bottom: 1px solid var(--line); padding: 26px 0 20px; }
.brand { font-size: 13px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
  color: var(--mars); display: flex; align-items: center; gap: 8px; }
.brand-sub { color: var(--faint); font-weight: 600; }
.planet { width: 14px; height: 14px; border-radius: 50%; display: inline-block;
  background: radial-gradient(circle at 35% 35%, #f0a37a, #b5532d 60%, #7a2e14); }
h1 { font-size: 32px; line-height: 1.2; margin: 8px 0 6px; letter-spacing: -0.01em; }
.lede { margin: 0 0 6px; color: var(--muted); max-width: 900px; font-size: 16px; }
.meta { margin: 0; color: var(--faint); font-size: 13px; font-variant-numeric: tabular-nums; }
.toc { position: sticky; top: 0; z-index: 10; background: rgba(255,255,255,0.94);
  backdrop-filter: blur(6px); border-bottom: 1px solid var(--line); }
.toc .wrap { display: flex; flex-wrap: wrap; gap: 2px 4px; padding-top: 6px; padding-bottom: 6px; }
.toc a { color: var(--muted); text-decoration: none; font-size: 13px; font-weight: 600;
  padding: 5px 10px; border-radius: 6px; }
.toc a:hover { background: #f0f4f8; color: var(--ink); }
main { padding-top: 22px; padding-bottom: 10px; }
.section { background: var(--paper); border: 1px solid var(--line); border-radius: 12px;
  padding: 20px 22px 14px; margin: 0 0 22px; box-shadow: 0 1px 2px rgba(16,24,40,.04);
  scroll-margin-top: 56px; }
.section-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px;
  margin-bottom: 8px; }
.section h2 { font-size: 19px; margin: 0; letter-spacing: -0.005em; }
.intro { margin: 0; color: var(--muted); font-size: 13.5px; flex: 1 1 420px; }
.run-overview + .run-overview { border-top: 1px solid var(--line); margin-top: 18px;
  padding-top: 16px; }
.run-overview h3 { margin: 0 0 2px; font-size: 17px; }
.desc { margin: 0 0 4px; color: var(--muted); font-size: 14px; }
.span { margin: 0 0 8px; color: var(--muted); font-size: 13.5px;
  font-variant-numeric: tabular-nums; }
.nodes { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 6px;
  margin: 0 18px 8px 0; }
.nodes-kind { font-size: 11px; font-weight: 700; text-transform: uppercase;
  letter-spacing: .07em; color: var(--faint); margin-right: 2px; }
.node { display: inline-flex; align-items: center; gap: 6px; font-size: 13px;
  background: #f3f5f8; border: 1px solid var(--line); border-radius: 999px;
  padding: 1px 10px 1px 7px; }
.chip { width: 10px; height: 10px; border-radius: 50%; display: inline-block; flex: none; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr));
  gap: 12px; margin-top: 8px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px 10px;
  background: #fcfcfd; display: flex; flex-direction: column; min-height: 112px; }
.card.accent { background: var(--accent-soft); border-color: #f6d5c1; }
.card-label { font-size: 11.5px; font-weight: 700; letter-spacing: .07em;
  text-transform: uppercase; color: var(--muted); }
.card-value { font-size: 30px; font-weight: 700; line-height: 1.15; margin: 6px 0 2px;
  font-variant-numeric: tabular-nums; letter-spacing: -0.01em; }
.card-value .unit, .card-unit { font-size: 13px; font-weight: 600; color: var(--faint);
  margin-left: 5px; letter-spacing: 0; }
.card-unit { margin: 0 0 2px; }
.card-value.none { font-size: 15px; font-weight: 600; color: var(--faint); font-style: italic; }
.card-list { list-style: none; margin: 6px 0 2px; padding: 0; }
.card-list li { display: flex; align-items: center; gap: 7px; font-size: 13.5px; }
.card-list .who { flex: 1; color: var(--ink); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.card-list .val { font-weight: 700; font-variant-numeric: tabular-nums; font-size: 16px; }
.card-sub { margin-top: auto; padding-top: 4px; font-size: 12px; color: var(--faint); }
.missing { border: 1px dashed #cbd2d9; border-radius: 10px; padding: 18px 18px;
  color: var(--muted); background: #fafbfc; font-size: 14px; }
.missing-tag { display: inline-block; font-size: 11px; font-weight: 700; letter-spacing: .06em;
  text-transform: uppercase; color: #8a5a00; background: #fff3cd; border-radius: 4px;
  padding: 2px 7px; margin-right: 10px; }
.plot { width: 100%; }
.run-divider { margin: 34px 0 14px; padding-left: 4px; scroll-margin-top: 56px; }
.run-divider span { font-size: 11.5px; font-weight: 700; letter-spacing: .08em;
  text-transform: uppercase; color: var(--mars); }
.run-divider h2 { margin: 2px 0 0; font-size: 24px; }
.table-wrap { overflow-x: auto; margin-bottom: 10px; }
table.compare { border-collapse: collapse; width: 100%; font-size: 14px;
  font-variant-numeric: tabular-nums; }
.compare th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .05em;
  color: var(--muted); border-bottom: 2px solid var(--line); padding: 8px 10px; }
.compare td { padding: 6px 10px; border-bottom: 1px solid #f0f2f5; }
.compare tr:hover td { background: #f8fafc; }
.compare .num { text-align: right; white-space: nowrap; }
.compare th.num { text-align: right; text-transform: none; font-size: 13.5px; color: var(--ink); }
.compare .unit { color: var(--faint); font-size: 13px; }
.compare .none { color: #9aa5b1; }
.compare tr.group td { background: #f5f7fa; font-weight: 700; font-size: 12.5px;
  color: var(--muted); text-transform: uppercase; letter-spacing: .05em; padding-top: 10px; }
.ref { display: inline-block; font-size: 10.5px; font-weight: 700; color: var(--faint);
  border: 1px solid var(--line); border-radius: 4px; padding: 0 5px; margin-left: 4px;
  text-transform: uppercase; letter-spacing: .05em; vertical-align: 1px; }
.delta { display: inline-block; min-width: 54px; font-size: 12px; font-weight: 700;
  border-radius: 5px; padding: 1px 6px; margin-left: 6px; text-align: center;
  background: #f0f2f5; color: var(--muted); }
.delta.better { background: #e7f6ec; color: var(--good); }
.delta.worse { background: #fdecea; color: var(--bad); }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
footer { color: var(--faint); font-size: 12.5px; padding-bottom: 40px; }
footer ul { padding-left: 18px; margin: 4px 0; }
@media print { .toc { display: none; } .section { break-inside: avoid; box-shadow: none; } }
"""
