"""The service's domain rules alone (no HTTP, no SQL): the state machine, permissions, half-open
millisecond windows and their overlapping pairs, sub-window volume shares, UTC milliseconds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marsrelay.service.domain import (
    Action,
    Actor,
    ConflictError,
    ForbiddenError,
    RequestState,
    Role,
    Window,
    check_allowed,
    may,
    next_state,
    overlapping_pairs,
    sees,
)
from marsrelay.service.domain.volumes import window_share_bits
from marsrelay.service.timefmt import TimeFormatError, format_ms, parse_ms

S = RequestState
#: The spec's transitions, written out.
ALLOWED = {
    (S.REQUESTED, S.ACKNOWLEDGED), (S.REQUESTED, S.REJECTED), (S.REQUESTED, S.CANCELLED),
    (S.ACKNOWLEDGED, S.IMPLEMENTED), (S.ACKNOWLEDGED, S.CANCELLED),
    (S.REQUESTED, S.STALE), (S.ACKNOWLEDGED, S.STALE),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_state_machine_table(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        assert next_state(current, target) == target
    else:
        with pytest.raises(ConflictError):
            next_state(current, target)


AGENCIES = ("ESA", "NASA", "ASI")


@pytest.mark.parametrize(("role", "agency", "action"),
                         list(itertools.product(Role, AGENCIES, Action)))
def test_permission_table(role: Role, agency: str, action: Action) -> None:
    actor = Actor("u", agency, role)
    lander, orbiter = "ESA", "NASA"
    planner = role == Role.PLANNER
    want = {
        Action.CREATE: planner and agency == lander,
        Action.CANCEL: planner and agency == lander,
        Action.ATTACH_FILE: planner and agency == lander,
        Action.ACKNOWLEDGE: planner and agency == orbiter,
        Action.REJECT: planner and agency == orbiter,
        Action.RECORD_RESULT: planner and agency == orbiter,
        Action.PUBLISH_TRAJECTORY: planner and agency == orbiter,
        Action.PLAN: role == Role.ADMIN or agency == orbiter,
        Action.READ_AUDIT: role == Role.ADMIN,
    }[action]
    assert may(actor, action, lander_agency=lander, orbiter_agency=orbiter) is want
    if not want:
        with pytest.raises(ForbiddenError):
            check_allowed(actor, action, lander_agency=lander, orbiter_agency=orbiter)
    assert sees(actor, lander, orbiter) is (role == Role.ADMIN or agency in (lander, orbiter))


def test_windows_are_half_open() -> None:
    a, b = Window(0, 10), Window(10, 20)
    assert not a.overlaps(b) and a.overlap(b) is None
    assert Window(9, 11).overlaps(a) and Window(9, 11).overlap(b) == Window(10, 11)
    assert Window(0, 10).inside(a) and not Window(0, 11).inside(a)
    with pytest.raises(ValueError):
        Window(5, 5)


windows = st.tuples(st.integers(0, 100), st.integers(1, 30)).map(lambda t: Window(t[0],
                                                                                 t[0] + t[1]))


@given(st.lists(st.tuples(st.sampled_from("AB"), windows), max_size=12))
def test_overlapping_pairs_equal_brute_force(items) -> None:
    rows = [(k + 1, g, w) for k, (g, w) in enumerate(items)]
    want = set()
    for (i, gi, wi), (j, gj, wj) in itertools.combinations(rows, 2):
        if gi == gj and wi.start_ms < wj.end_ms and wj.start_ms < wi.end_ms:
            common = Window(max(wi.start_ms, wj.start_ms), min(wi.end_ms, wj.end_ms))
            want.add((gi, min(i, j), max(i, j), common))
    got = overlapping_pairs(rows)
    assert len(got) == len(set(got)) and set(got) == want
    assert [c[3].start_ms for c in got] == sorted(c[3].start_ms for c in got)


def test_window_share_interpolates_the_cumulative_profile() -> None:
    profile = ([0, 10_000, 20_000], [0, 1000, 3000])  # 100 bit/s then 200 bit/s
    assert window_share_bits(profile, 5_000, 5_000, 25_000) == 3000
    assert window_share_bits(profile, 5_000, 10_000, 20_000) == 500 + 1000
    assert window_share_bits(profile, 5_000, 0, 5_000) == 0


@given(st.integers(0, 4_102_444_800_000))
def test_utc_milliseconds_round_trip(ms: int) -> None:
    assert parse_ms(format_ms(ms)) == ms


def test_utc_parsing() -> None:
    assert parse_ms("1970-01-01T00:00:01Z") == 1000
    assert parse_ms("1970-01-01T01:00:00+01:00") == 0
    assert parse_ms("1970-01-01T00:00:00.0005Z") == 1  # rounded to the millisecond
    assert format_ms(1) == "1970-01-01T00:00:00.001Z"
    for bad in ("", "soon", "2030-02-30T00:00:00Z", "2030-01-01T25:00:00Z"):
        with pytest.raises(TimeFormatError):
            parse_ms(bad)
