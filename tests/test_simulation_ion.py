"""ION contact plans read and written as ION reads them.

Plans are written here by hand in ION's own syntax, from the ionrc(5) man page of NASA JPL's
ION-DTN (https://nasa-jpl.github.io/ION-DTN/man/ici/ionrc, source ``ici/doc/pod5/ionrc.pod``):

- TIME REPRESENTATION: absolute ``yyyy/mm/dd-hh:mm:ss`` or ``+ss`` after the reference time;
- ``@ time``: sets the reference time, "the new reference time can be a relative time";
- ``a contact start stop source dest xmit_data_rate [confidence]``, rate in bytes/second;
- ``a range start stop one_node the_other_node distance`` (light seconds): "a range command in
  which the node number of the first cited node is numerically less than that of the second
  ... implicitly declar[es] the same distance in the reverse direction UNLESS a second range
  command ... cites the same two nodes in the opposite order ... A range command in which the
  node number of the first cited node is numerically greater ... implies ABSOLUTELY NOTHING
  about the distance in the reverse direction";
- EXAMPLES: ``@ 2008/10/05-11:30:00``, ``a range +1 2009/01/01-00:00:00 1 2 12``,
  ``a contact +60 +7260 1 2 10000``.

Expected instants come from NAIF SPICE (``str2et`` with the leapseconds kernel typed in by
``spicekit``), never from marsrelay's own time code. Leap seconds: IERS Bulletin C 36 (one
inserted at the end of 2008-12-31) and C 52 (at the end of 2016-12-31).
"""

from __future__ import annotations

import doctest
import re

import numpy as np
import pyarrow.parquet as pq
import pytest
import spiceypy as sp
from typer.testing import CliRunner

import marsrelay.simulation.ion as ion_pkg
from helpers.spicekit import LoadedKernels, write_lsk
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.geometry.time import posix_to_tdb
from marsrelay.simulation import ContactPlan
from marsrelay.simulation.ion import (
    export_ion,
    from_ion,
    parse_ion,
    read_ion,
    resolve_ion,
    to_ion,
    write_ion,
)

#: Names for the node numbers of the hand-written plans.
NODES = {1: "Rosalind Franklin", 2: "TGO", 3: "DSS-63"}
KINDS = {"Rosalind Franklin": "lander", "TGO": "orbiter", "DSS-63": "station"}
US = 1e-6


@pytest.fixture(scope="module")
def et(tmp_path_factory):
    """``et("2008-10-05T11:31:00")``: TDB seconds past J2000 by SPICE's str2et."""
    with LoadedKernels([write_lsk(tmp_path_factory.mktemp("lsk"))]):
        yield sp.str2et


def _read(text: str, nodes=None, **kw):
    return resolve_ion(parse_ion(text, file="plan.ionrc", **kw), NODES if nodes is None else nodes,
                       kinds=KINDS)


def _owlt(plan: ContactPlan, frm: str, to: str, start_tdb_s: float) -> float:
    i = np.flatnonzero((plan.from_node == plan.node_index(frm))
                       & (plan.to_node == plan.node_index(to))
                       & (np.abs(plan.start_tdb_s - start_tdb_s) < 1e-3))
    assert i.size == 1, (frm, to, start_tdb_s)
    return float(plan.owlt_s[i[0]])


# ------------------------------------------------------------------------------------ reading
def test_man_page_example_reads_as_documented(et):
    # ionrc(5) EXAMPLES, verbatim, plus the reverse contact the range's note speaks of.
    text = """\
@ 2008/10/05-11:30:00
a range +1 2009/01/01-00:00:00 1 2 12
a contact +60 +7260 1 2 10000
a contact +60 +7260 2 1 10000
"""
    plan = _read(text).plan
    i = plan.node_index
    c = int(np.flatnonzero(plan.from_node == i("Rosalind Franklin"))[0])
    # "starting 60 seconds after the reference time and ending exactly two hours after it starts"
    assert plan.start_tdb_s[c] == pytest.approx(et("2008-10-05T11:31:00"), abs=US)
    assert plan.end_tdb_s[c] == pytest.approx(et("2008-10-05T13:31:00"), abs=US)
    assert plan.rate_bps[c] == 80_000.0  # 10,000 bytes/second
    assert plan.owlt_s[c] == 12.0
    # 1 < 2: the same distance holds from 2 to 1
    assert _owlt(plan, "TGO", "Rosalind Franklin", et("2008-10-05T11:31:00")) == 12.0
    assert plan.node_kind == ("lander", "orbiter", "station")


def test_relative_times_are_utc_not_tdb(et):
    plan = _read("@ 2030/11/01-00:00:00\na contact +0 +600 1 2 100\n"
                 "a range +0 +600 1 2 0\n").plan
    assert plan.start_tdb_s[0] == pytest.approx(et("2030-11-01T00:00:00"), abs=US)
    # read as TDB the instant would be 69.18 s earlier (TT - UTC = 37 + 32.184 s)
    assert plan.start_tdb_s[0] - et("2030 NOV 01 00:00:00 TDB") == pytest.approx(69.184, abs=2e-3)


def test_at_takes_absolute_and_relative_references(et):
    text = """\
@ 2030/11/01-00:00:00
a contact +0 +600 1 2 100
@ +3600
a contact +0 +600 2 3 100
@ +3600
a contact 2030/11/01-02:00:00 +600 1 2 100
a range 2030/11/01-00:00:00 2030/11/02-00:00:00 1 2 0
a range 2030/11/01-00:00:00 2030/11/02-00:00:00 2 3 700
"""
    plan = _read(text).plan
    assert plan.start_tdb_s == pytest.approx(
        [et("2030-11-01T00:00:00"), et("2030-11-01T01:00:00"), et("2030-11-01T02:00:00")],
        abs=US)
    assert plan.end_tdb_s[2] == pytest.approx(et("2030-11-01T02:10:00"), abs=US)
    assert list(plan.owlt_s) == [0.0, 700.0, 0.0]


def test_relative_time_without_absolute_reference_is_refused():
    for text in ("a contact +0 +600 1 2 100\n", "@ +3600\n", "@ 0\n"):
        with pytest.raises(InputError, match=r"plan.ionrc: line 1: .*reference"):
            parse_ion(text, file="plan.ionrc")
    # a caller that knows when ionadmin ran may give the reference
    ref = 1_900_000_000
    plan = _read("a contact +0 +600 1 2 100\na range +0 +600 1 2 0\n",
                 reference_posix_s=ref).plan
    assert plan.start_tdb_s[0] == pytest.approx(float(posix_to_tdb(ref)), abs=US)


def test_plus_ss_counts_posix_seconds_across_a_leap_second(et):
    # IERS Bulletin C 52: a second was inserted at 2016-12-31T23:59:60 UTC.
    text = """\
@ 2016/12/31-23:59:00
a contact +0 +120 1 2 1000
a contact +30 +60 2 1 1000
a range +0 +3600 1 2 1
"""
    plan = _read(text).plan
    a = int(np.flatnonzero(plan.from_node == 0)[0])
    b = int(np.flatnonzero(plan.from_node == 1)[0])
    assert plan.start_tdb_s[a] == pytest.approx(et("2016-12-31T23:59:00"), abs=US)
    assert plan.end_tdb_s[a] == pytest.approx(et("2017-01-01T00:01:00"), abs=US)
    assert plan.end_tdb_s[a] - plan.start_tdb_s[a] == pytest.approx(121.0, abs=US)  # SI s
    # +60 is 2017-01-01T00:00:00, 61 SI seconds after the reference (not 23:59:60)
    assert plan.end_tdb_s[b] == pytest.approx(et("2017-01-01T00:00:00"), abs=US)
    assert plan.end_tdb_s[b] - plan.start_tdb_s[b] == pytest.approx(31.0, abs=US)
    # an absolute 23:59:60 is what mktime makes of it: the next minute's :00
    plan2 = _read("a contact 2016/12/31-23:59:60 2017/01/01-00:10:00 1 2 1\n"
                  "a range 2016/12/31-00:00:00 2017/01/02-00:00:00 1 2 1\n").plan
    assert plan2.start_tdb_s[0] == pytest.approx(et("2017-01-01T00:00:00"), abs=US)


def test_range_from_lower_node_holds_both_ways_until_a_reverse_range_is_asserted():
    text = """\
@ 2030/11/01-00:00:00
a range +0 +86400 1 2 5
a range +3600 +7200 2 1 9
a contact +100 +200 1 2 100
a contact +100 +200 2 1 100
a contact +4000 +4100 2 1 100
a contact +7200 +7300 2 1 100
a contact +8000 +8100 2 1 100
a contact +4000 +4100 1 2 100
"""
    ion = parse_ion(text)
    by_line = {c.line: ion.owlt_s(c) for c in ion.contacts}
    assert by_line == {
        4: 5,   # 1 -> 2 asserted
        5: 5,   # 2 -> 1: imputed from the 1 -> 2 range (1 < 2)
        6: 9,   # 2 -> 1 asserted for this time overrides the imputed one
        7: 9,   # ranges are closed: the asserted one still holds at its stop
        8: 5,   # after the asserted 2 -> 1 range the imputed one holds again
        9: 5,   # the 2 -> 1 range says nothing about 1 -> 2
    }


def test_range_from_higher_node_holds_that_way_only():
    text = """\
@ 2030/11/01-00:00:00
a range +0 +86400 2 1 7
a contact +100 +200 2 1 100
a contact +100 +200 1 2 100
"""
    reading = _read(text)
    assert len(reading.plan) == 1 and reading.plan.owlt_s[0] == 7.0
    assert reading.plan.node_names[reading.plan.from_node[0]] == "TGO"
    assert reading.without_range == 1  # 1 -> 2 has no range: ION's CGR cannot use it
    assert "1 without a range left out" in reading.summary()
    with pytest.raises(InputError, match=r"line 2: none of the 1 contacts has a range"):
        _read("@ 2030/11/01-00:00:00\na contact +100 +200 1 2 100\n"
              "a range +0 +86400 2 1 7\n")


def test_first_range_covering_the_start_applies():
    text = """\
@ 2030/11/01-00:00:00
a range +0 +600 1 2 3
a range +600 +1200 1 2 4
a contact +600 +700 1 2 100
a contact +800 +900 1 2 100
"""
    ion = parse_ion(text)
    assert [ion.owlt_s(c) for c in ion.contacts] == [3, 4]  # touching ranges: the first wins


def test_overlapping_ranges_for_one_pair_and_direction_are_refused():
    with pytest.raises(InputError, match=r"plan.ionrc: line 3: range 1 -> 2 overlaps the one on "
                                         r"line 2"):
        parse_ion("@ 2030/11/01-00:00:00\na range +0 +600 1 2 3\na range +300 +900 1 2 4\n",
                  file="plan.ionrc")
    with pytest.raises(InputError, match="line 3"):  # the same range twice overlaps too
        parse_ion("@ 2030/11/01-00:00:00\na range +0 +600 2 1 3\na range +0 +600 2 1 3\n")
    # the other direction is another range list
    parse_ion("@ 2030/11/01-00:00:00\na range +0 +600 1 2 3\na range +300 +900 2 1 4\n")


def test_overlapping_or_touching_contacts_of_one_pair_are_refused():
    # ionrc(5): "The intervals of scheduled contacts are not allowed to overlap"; ION's rfx.c
    # compares closed intervals, so touching ones collide too.
    for second in ("+500 +900", "+600 +900"):
        with pytest.raises(InputError, match=r"line 3: contact 1 -> 2 overlaps or touches"):
            parse_ion(f"@ 2030/11/01-00:00:00\na contact +0 +600 1 2 9\na contact {second} 1 2 9")
    parse_ion("@ 2030/11/01-00:00:00\na contact +0 +600 1 2 9\na contact +601 +900 1 2 9\n"
              "a contact +0 +600 2 1 9\n")


def test_change_delete_quit_and_skipped_commands():
    text = """\
## begin ionadmin
1 1 ''
m horizon +0
@ 2030/11/01-00:00:00
a contact +0 +600 1 1 100000
a range +0 +600 1 1 1
a contact -1 -1 2 2 0
a contact +0 +600 1 2 1000
a contact +1000 +1600 1 2 1000
a contact +2000 +2600 2 3 5000 0.5
c contact +0 1 2 2000 0.9
d contact +1000 1 2
a range +0 +86400 1 2 0
a range +0 +86400 2 3 700
a range +0 +86400 1 3 900
d range +0 1 3
s
q
this line is after 'q' and is never read
"""
    reading = _read(text)
    plan = reading.plan
    assert (reading.loopback, reading.unscheduled, reading.contacts_read) == (1, 1, 2)
    assert list(plan.rate_bps) == [16_000.0, 40_000.0]
    assert list(plan.confidence) == [0.9, 0.5]
    assert list(plan.owlt_s) == [0.0, 700.0]


@pytest.mark.parametrize(("text", "line", "what"), [
    ("", 1, "no scheduled contact"),
    ("# only a comment\n\n", 2, "no scheduled contact"),
    ("hello world\n", 1, "not an ionadmin contact-plan command"),
    ("@ 2030/11/01-00:00:00\na contact 100 600 1 2 10\n", 2, "is not an ION time"),
    ("@ 2030/11/01-00:00:00\na contact +0600 +700 1 2 10\n", 2, "is not an ION time"),
    ("@ 2030/13/01-00:00:00\n", 1, "not a calendar date"),
    ("@ 2030/11/01-00:00:00\na contact +600 0 1 2 10\na range +0 +900 1 2 1\n", 3,
     "no scheduled contact"),  # stop 0: ION's hypothetical contact, not a scheduled one
    ("@ 2030/11/01-00:00:00\na contact +600 +0 1 2 10\n", 2, "not after its start"),
    ("@ 2030/11/01-00:00:00\na contact +600 +500 1 2 10\n", 2, "not after its start"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 1 2 -10\n", 2, "rate '-10'"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 1 2 12.5\n", 2, "rate '12.5'"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 1 2 10 1.5\n", 2, "confidence '1.5'"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 0 2 10\n", 2, "not an ION node number"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 1 2\n", 2, "takes 5 or 6 values"),
    ("@ 2030/11/01-00:00:00\na range +0 +500 1 2 1.5\n", 2, "OWLT '1.5'"),
    ("@ 2030/11/01-00:00:00\nc contact +0 1 2 10\n", 2, "no contact 1 -> 2 starts at"),
    ("@ 2030/11/01-00:00:00\na contact +0 +500 1 4 10\na range +0 +500 1 4 1\n", 2,
     "ION node 4 has no name"),
])
def test_bad_plans_are_input_errors_naming_file_and_line(text, line, what):
    with pytest.raises(InputError) as err:
        _read(text)
    msg = str(err.value)
    assert msg.startswith(f"plan.ionrc: line {line}: "), msg
    assert what in msg and "(allowed: " in msg


def test_unmapped_node_says_how_to_map_it(tmp_path):
    path = tmp_path / "plain.ionrc"
    path.write_text("@ 2030/11/01-00:00:00\na contact +0 +600 1 2 100\n"
                    "a range +0 +600 1 2 0\n")
    with pytest.raises(InputError, match=r"plain.ionrc: line 2: ION node 2 has no name "
                                         r"\(allowed: --node 2=NAME or \[ion.nodes\] 2 = "):
        read_ion(path, nodes={1: "Rosalind Franklin"})
    plan = read_ion(path, nodes={1: "Rosalind Franklin", 2: "TGO"}).plan
    assert plan.node_names == ("Rosalind Franklin", "TGO")


def test_binary_and_non_utf8_files_are_refused(tmp_path):
    (tmp_path / "bin.ionrc").write_bytes(b"@ 2030/11/01-00:00:00\n\x00\x01\x02\xff")
    with pytest.raises(InputError, match=r"bin.ionrc: line 2: binary data"):
        read_ion(tmp_path / "bin.ionrc")
    (tmp_path / "latin.ionrc").write_bytes(b"# caf\xe9\n")
    with pytest.raises(InputError, match=r"latin.ionrc: line 1: binary data"):
        read_ion(tmp_path / "latin.ionrc")
    with pytest.raises(InputError, match="cannot read the file"):
        read_ion(tmp_path / "missing.ionrc")


# ------------------------------------------------------------------------------------ writing
def _plan(rows, t0: float) -> ContactPlan:
    return ContactPlan.from_rows([(f, t, t0 + s, t0 + e, r, w, *rest)
                                  for f, t, s, e, r, w, *rest in rows], KINDS)


def test_written_plans_round_inwards_and_count_what_they_leave_out(et):
    t0 = et("2030-11-01T00:00:00")
    plan = _plan([
        ("Rosalind Franklin", "TGO", 0.4, 10.6, 8000.0, 0.0),       # -> +1 +10
        ("Rosalind Franklin", "TGO", 20.2, 20.9, 8000.0, 0.0),      # 0.7 s: left out
        ("Rosalind Franklin", "TGO", 30.5, 31.4, 8000.0, 0.0),      # 0.9 s, no whole second
        ("TGO", "DSS-63", 40.0, 41.0, 8007.9, 612.2),               # 1 s; 1000 B/s; OWLT 613
        ("TGO", "DSS-63", 50.0, 60.0, 7.9, 612.0),                  # under 1 byte/s
    ], t0)
    out = export_ion(plan, reference_tdb_s=t0)
    body = [ln for ln in out.text.splitlines() if ln[:1] in ("a", "@")]
    assert body == [
        "@ 2030/11/01-00:00:00",
        "a contact +1 +10 1 2 1000",
        "a range +1 +10 1 2 0",
        "a contact +40 +41 2 3 1000",
        "a range +40 +41 2 3 613",
    ]
    assert (out.contacts_written, out.left_out_short, out.left_out_rate) == (2, 2, 1)
    assert "# Left out: 2 contacts shorter than a whole second, 1 under 1 byte/s" in out.text
    # the written contacts lie inside the originals: no capacity invented
    back = from_ion(out.text)
    assert back.start_tdb_s == pytest.approx([t0 + 1, t0 + 40], abs=US)
    assert back.end_tdb_s == pytest.approx([t0 + 10, t0 + 41], abs=US)


def test_written_relative_times_are_never_negative(et):
    t0 = et("2030-11-01T00:00:00")
    plan = _plan([("TGO", "DSS-63", 500.5, 900.0, 8000.0, 700.0),
                  ("Rosalind Franklin", "TGO", 100.25, 400.0, 8000.0, 0.0)], t0)
    text = to_ion(plan)
    assert "@ 2030/11/01-00:01:41" in text  # the first written start
    assert re.findall(r"[+-]\d+", " ".join(ln for ln in text.splitlines()
                                            if ln.startswith("a "))) == [
        "+0", "+299", "+0", "+299", "+400", "+799", "+400", "+799"]
    with pytest.raises(InputError, match=r"reference .* is after the first contact"):
        to_ion(plan, t0 + 200)


def test_written_edges_across_a_leap_second(et):
    plan = ContactPlan.from_rows([
        ("TGO", "DSS-63", et("2016-12-31T23:59:30.2"), et("2016-12-31T23:59:60.5"), 8e3, 1.0),
        ("Rosalind Franklin", "TGO", et("2016-12-31T23:59:59.5"), et("2016-12-31T23:59:60.9"),
         8e3, 0.0),
        ("Rosalind Franklin", "TGO", et("2016-12-31T23:59:60.4"), et("2017-01-01T00:00:10.7"),
         8e3, 0.0),
    ], KINDS)
    out = export_ion(plan, absolute=True)
    contacts = [ln for ln in out.text.splitlines() if ln.startswith("a contact")]
    # POSIX seconds cannot name 23:59:60: an end inside it rounds down to 23:59:59, a start
    # inside it up to 00:00:00; the middle contact holds no whole POSIX second.
    assert contacts == [
        "a contact 2016/12/31-23:59:31 2016/12/31-23:59:59 2 3 1000",
        "a contact 2017/01/01-00:00:00 2017/01/01-00:00:10 1 2 1000",
    ]
    assert out.left_out_short == 1


def test_contacts_that_would_touch_in_ion_keep_a_gap(et):
    t0 = et("2030-11-01T00:00:00")
    plan = _plan([("TGO", "DSS-63", 0.0, 600.0, 8000.0, 700.0),
                  ("TGO", "DSS-63", 600.0, 1200.0, 16000.0, 700.0)], t0)
    out = export_ion(plan)
    assert out.shortened == 1
    parse_ion(out.text)  # ION would ignore a touching contact; the written plan has none
    assert "a contact +601 +1200 2 3 2000" in out.text


def test_reverse_contacts_with_other_light_times_keep_their_own(et):
    # A range from the lower node number is also imputed the other way: where a reverse
    # contact with another light time starts inside it, it must end before that start.
    t0 = et("2030-11-01T00:00:00")
    plan = _plan([("Rosalind Franklin", "TGO", 0.0, 600.0, 8000.0, 2.0),
                  ("TGO", "Rosalind Franklin", 100.0, 700.0, 8000.0, 3.0)], t0)
    text = to_ion(plan)
    assert "a range +0 +99 1 2 2" in text and "a range +100 +700 2 1 3" in text
    back = from_ion(text)
    assert list(back.owlt_s) == [2.0, 3.0]


# --------------------------------------------------------------------------------- round trip
HAND_PLAN = """\
# Rosalind Franklin (1) -> TGO (2) -> DSS-63 (3); ranges span several contacts.
@ 2030/11/01-00:00:00
a contact +0 +600 1 1 100000
a contact +3600 +4200 1 2 32000
a contact +3600 +4200 2 1 4000 0.8
a contact +90000 +90600 1 2 32000
a contact +7200 +10800 2 3 250000 0.95
a contact +97200 2030/11/02-03:30:00 2 3 250000
a range +0 +172800 1 2 0
a range +0 +86400 2 3 690
a range +86400 +172800 2 3 700
a range +0 +172800 3 2 710
"""


def test_round_trip_ion_plan_marsrelay_plan_is_exact():
    first = _read(HAND_PLAN)
    text = export_ion(first.plan, node_numbers=first.node_numbers).text
    again = _read(text)
    assert again.plan.equals(first.plan)  # bit for bit: times, rates, light times, confidence
    assert to_ion(again.plan, node_numbers=again.node_numbers) == text

    def as_ion(t: str) -> set[tuple]:
        ion = parse_ion(t)
        return {(c.start_posix_s, c.stop_posix_s, c.from_node, c.to_node, c.rate_bytes_per_s,
                 c.confidence, ion.owlt_s(c)) for c in ion.contacts}

    # the written plan holds, for ION, the same contacts with the same light times
    assert as_ion(text) == as_ion(HAND_PLAN)
    assert {o for *_, o in as_ion(text)} == {0, 690, 700}


def test_round_trip_marsrelay_plan_on_ion_grid_is_exact(tmp_path):
    p0 = 1_919_980_800  # 2030-11-03T00:00:00Z
    t = posix_to_tdb(np.array([p0 + 100, p0 + 700, p0 + 1000, p0 + 5000, p0 + 8000, p0 + 8400],
                              dtype=float))
    plan = ContactPlan.from_rows([
        ("Rosalind Franklin", "TGO", t[0], t[1], 2_048_000, 0.0),
        ("TGO", "DSS-63", t[2], t[3], 4_000_000, 612.0, 0.95),
        ("Rosalind Franklin", "TGO", t[4], t[5], 256_000, 0.0),
    ], KINDS)
    out = write_ion(tmp_path / "plan.ionrc", plan)
    assert out.path is not None and out.contacts_written == 3
    assert "# node 1 lander Rosalind Franklin" in out.text
    back = read_ion(out.path)
    assert back.plan.equals(plan)  # exact
    assert from_ion(to_ion(plan, absolute=True)).equals(plan)


def test_package_docstring_example_runs():
    assert doctest.testmod(ion_pkg, verbose=False).failed == 0


# ------------------------------------------------------------------------------------- CLI
PLAIN_PLAN = """\
@ 2030/06/01-00:00:00
a contact +21600 +22200 1 2 32000
a contact +43200 +50400 2 3 62500
a range +0 +86400 1 2 0
a range +0 +86400 {range_23}
"""


def test_cli_simulates_a_plain_ion_plan_with_node_options(tmp_path, write_scenario):
    sc = write_scenario()
    plan = tmp_path / "plain.ionrc"
    plan.write_text(PLAIN_PLAN.format(range_23="2 3 700"))
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", str(sc), "--ion", str(plan), "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "plain.ionrc: line 2: ION node 1 has no name" in " ".join(res.stderr.split())
    args = ["simulate", str(sc), "--ion", str(plan), "--out", str(out), "--node",
            "1=Rosalind Franklin", "--node", "2=TGO", "--node", "3=DSS-43",
            "--export-ion", str(tmp_path / "again.ionrc")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    bundles = pq.read_table(out / "bundles.parquet").to_pydict()
    done = [lat for st, lat in zip(bundles["status"], bundles["latency_s"], strict=True)
            if st == "delivered"]
    assert len(done) > 0 and min(done) >= 700.0  # the 2 -> 3 range's light time
    again = (tmp_path / "again.ionrc").read_text()
    assert "# node 1 lander Rosalind Franklin" in again and "# node 3 station DSS-43" in again
    assert "# node 4 orbiter MRO" in again  # not mapped: the smallest free number
    res = runner.invoke(app, ["simulate", str(sc), "--node", "1", "--out", str(out)])
    assert res.exit_code == 2 and "--node" in res.stderr


def test_cli_uses_the_scenarios_ion_nodes_table(tmp_path, write_scenario, base_toml):
    sc = write_scenario(base_toml + '\n[ion.nodes]\n1 = "Rosalind Franklin"\n2 = "TGO"\n'
                                    '3 = "DSS-43"\n')
    plan = tmp_path / "plain.ionrc"
    plan.write_text(PLAIN_PLAN.format(range_23="3 2 700"))  # 3 > 2: no range for 2 -> 3
    res = CliRunner().invoke(app, ["simulate", str(sc), "--ion", str(plan), "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "1 of 2 contacts used; 1 without a range left out" in " ".join(res.stdout.split())
    bad = write_scenario(base_toml + '\n[ion.nodes]\n1 = "Nobody"\n', name="bad.toml")
    res = CliRunner().invoke(app, ["simulate", str(bad), "--ion", str(plan)])
    assert res.exit_code == 2 and "ion.nodes.1" in res.stderr


@pytest.mark.parametrize("content", [b"", b"\x7fELF\x02\x01\x01\x00\x00", b"garbage here\n"])
def test_cli_refuses_empty_binary_and_garbage_plans(tmp_path, write_scenario, content):
    plan = tmp_path / "bad.ionrc"
    plan.write_bytes(content)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["simulate", str(write_scenario()), "--ion", str(plan),
                                   "--out", str(out)])
    assert res.exit_code == 2, res.output
    line = " ".join(res.stderr.split())
    assert "bad.ionrc: line 1:" in line and "(allowed: " in line and "Traceback" not in line
    assert not out.exists()


@pytest.mark.parametrize(("table", "what"), [
    ('0 = "TGO"', "ION node number '0' is not a positive integer"),
    ('x = "TGO"', "ION node number 'x' is not a positive integer"),
    ('1 = "TGO"\n2 = "TGO"', "'TGO' is given more than one ION node number"),
    ('1 = "Nobody"', "ion.nodes.1: ION node 1 names 'Nobody'"),
])
def test_scenario_ion_nodes_are_checked_when_loaded(write_scenario, base_toml, table, what):
    from marsrelay.scenario import load_scenario

    with pytest.raises(InputError, match=re.escape(what)):
        load_scenario(write_scenario(base_toml + f"\n[ion.nodes]\n{table}\n"))


def test_scenario_without_a_partner_drops_its_ion_numbers(write_scenario, base_toml):
    from marsrelay.scenario import load_scenario

    sc = load_scenario(write_scenario(base_toml + '\n[ion.nodes]\n1 = "Rosalind Franklin"\n'
                                                  '2 = "TGO"\n3 = "MRO"\n'))
    assert sc.ion.nodes == {1: "Rosalind Franklin", 2: "TGO", 3: "MRO"}
    assert sc.without("ESA").ion.nodes == {1: "Rosalind Franklin", 3: "MRO"}
    assert sc.to_dict()["ion"] == {"nodes": {"1": "Rosalind Franklin", "2": "TGO", "3": "MRO"}}


def test_random_plans_written_hold_no_more_than_the_plan_and_read_back_as_written(et):
    # Invariants over random plans (both directions, overlapping reverse contacts with other
    # light times, fractional edges, a leap second inside the span): the written plan is valid
    # ION, each contact lies inside its original with no more rate and no less light time, and
    # reading it back and writing again changes nothing.
    rng = np.random.default_rng(18)
    t0 = et("2016-12-31T23:00:00")
    names = list(KINDS)
    for _ in range(20):
        n = 60
        frm = rng.integers(0, 3, n)
        to = (frm + rng.integers(1, 3, n)) % 3
        start = t0 + np.sort(rng.uniform(0, 7200, n))
        end = start + rng.choice([0.3, 0.9, 1.0, 1.7, 30.0, 600.5], n)
        plan = ContactPlan.from_rows(
            [(names[f], names[t], s, e, r, w) for f, t, s, e, r, w in zip(
                frm, to, start, end, rng.uniform(1.0, 1e6, n), rng.choice([0.0, 2.5, 700.0], n),
                strict=True)], KINDS)
        out = export_ion(plan)
        back = from_ion(out.text)
        assert out.contacts_written == len(back)
        assert out.contacts_written + out.left_out_short + out.left_out_rate <= len(plan)
        for k in range(len(back)):
            f, t = back.from_node[k], back.to_node[k]
            inside = np.flatnonzero(
                (plan.from_node == f) & (plan.to_node == t)
                & (plan.start_tdb_s <= back.start_tdb_s[k] + US)
                & (plan.end_tdb_s >= back.end_tdb_s[k] - US))
            assert inside.size >= 1
            i = inside[0]
            assert back.rate_bps[k] <= plan.rate_bps[i] + 1e-6
            assert back.owlt_s[k] >= plan.owlt_s[i] - US
            assert back.owlt_s[k] - plan.owlt_s[i] < 1.0
        def body(text: str) -> list[str]:
            return [ln for ln in text.splitlines() if not ln.startswith("# Left out")]

        assert body(to_ion(back)) == body(out.text)
