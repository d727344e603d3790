"""One self-contained HTML report of one or more runs (no network needed to view it).

:func:`write_report` reads each run directory (:mod:`marsrelay.report.rundir`), summarises it
(:mod:`marsrelay.report.summary`) and writes a single page: summary cards, the contact timeline,
data returned per sol, latency, buffer occupancy, a map of Mars with the orbiters' ground tracks,
the Earth-Mars geometry, and the comparison when several runs are given. plotly.js is inlined
once; a section whose input the run did not write says "not computed in this run".
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Callable, Sequence
from importlib import resources
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
    buffer_figure,
    comparison_figure,
    latency_figure,
    per_sol_figure,
    timeline_figure,
)
from marsrelay.report.maps import earth_mars_figure, map_figure
from marsrelay.report.run_data import RunData, load_run, tdb_to_plot_time
from marsrelay.report.style import FONT, NodeColors, node_colors
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


@functools.cache
def _asset(name: str) -> str:
    """A file of ``report/assets`` (the page template and its style sheet)."""
    return (resources.files("marsrelay.report") / "assets" / name).read_text(encoding="utf-8")


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
    return _asset("page.html").format(
        title=_esc(title),
        lede=f'<p class="lede">{lede}</p>' if lede else "",
        meta=_esc(f"{len(runs)} run{'s' if several else ''} · "
                  f"{_fmt_utc(first.start_tdb_s)} → {_fmt_utc(first.end_tdb_s)} UTC"),
        nav=nav_html,
        body="\n".join(parts),
        files=files,
        version=_esc(__version__),
        css=_asset("report.css").replace("__FONT__", FONT),
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
