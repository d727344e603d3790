"""Reading ``ionadmin`` command text into :class:`IonPlan`: the contact plan in ION's own terms.

What is read, and how (ionrc(5), NASA JPL ION-DTN, ``ici/doc/pod5/ionrc.pod``; ION's
``ionadmin.c`` and ``rfx.c``; marsrelay's ``spec/conventions.md``, "Store-and-forward and ION
contact plans"):

- ``a contact START STOP FROM TO RATE [CONFIDENCE]``: RATE in bytes per second (a positive
  integer), CONFIDENCE in (0, 1], default 1. START ``-1`` (a registration contact, FROM = TO) or
  START or STOP ``0`` (a hypothetical contact) carry no scheduled transmission: counted, not
  used. A contact from a node to itself (a loopback, common in ION node set-ups) is counted and
  not used either. Two contacts of one pair and direction may not overlap, nor touch: ION
  compares closed intervals and ignores the later one (ionrc(5): "The intervals of scheduled
  contacts are not allowed to overlap"); here it is an error.
- ``a range START STOP A B OWLT``: OWLT in whole seconds (an integer >= 0). Two ranges asserted
  for one pair in one direction may not overlap (they may touch); that is an error.
- ``c contact START FROM TO RATE [CONFIDENCE]``, ``d contact START|* FROM TO`` and
  ``d range START|* A B`` change and delete what earlier lines added, as ``ionadmin`` does.
- ``@ TIME`` sets the reference time of ``+SS`` times; ``@ +SS`` moves it. ``@ 0`` (ION: "now")
  and a ``+SS`` time before any absolute reference are errors: the file alone must fix the
  plan. ``q`` ends the commands (ionadmin stops reading).
- Other ``ionadmin`` commands (``1``, ``s``, ``x``, ``m``, ``e``, ``v``, ``h``, ``?``, ``^``,
  ``r``, ``i``, ``l``, ``t``) do not change the plan and are skipped; ``^ REGION`` is skipped
  too (the plan is read as one region). Any other line is an error.

Times are UTC: absolute ``yyyy/mm/dd-hh:mm:ss``, or ``+SS`` seconds after the reference.
Both are POSIX seconds (``time_t``: ``mktime`` and ``reference + strtol``), so ``+SS`` counts
UTC seconds without leap seconds: across a leap second the instant is one SI second later, and
``23:59:60`` reads as the next minute's ``:00`` (``mktime`` normalisation). Integers are
decimal without leading zeros: ION reads ``+0600`` with ``strtol(..., 0)`` as octal 384 s,
which no planner means, so it is refused rather than guessed.

Which range gives a contact its one-way light time is :meth:`IonPlan.owlt_s`.
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from marsrelay.errors import InputError

__all__ = [
    "COMMANDS_ALLOWED",
    "TIME_ALLOWED",
    "IonContact",
    "IonPlan",
    "IonRange",
    "parse_ion",
]

#: What a time may look like (for error messages).
TIME_ALLOWED = ("yyyy/mm/dd-hh:mm:ss (UTC) or +SS (whole seconds after the @ reference, "
                "decimal without leading zeros)")
#: What a line may hold (for error messages).
COMMANDS_ALLOWED = ("a contact START STOP FROM TO RATE [CONFIDENCE] | a range START STOP A B "
                    "OWLT | c contact START FROM TO RATE [CONFIDENCE] | d contact START FROM TO"
                    " | d range START A B | @ TIME | q | # comment | ionadmin commands 1 s x m "
                    "e v h ? ^ r i l t (skipped)")

_ABS_RE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})-(\d{1,2}):(\d{1,2}):(\d{1,2})$")
_REL_RE = re.compile(r"^\+(0|[1-9]\d*)$")
_POSITIVE_RE = re.compile(r"^[1-9]\d*$")
_NATURAL_RE = re.compile(r"^(0|[1-9]\d*)$")
_NODE_LABEL_RE = re.compile(r"^#\s*node\s+([1-9]\d*)\s+(lander|orbiter|station|node)\s+(.+?)\s*$")
_LAST_POSIX_S = calendar.timegm((9999, 12, 31, 23, 59, 59, 0, 0, 0))
_SKIPPED = frozenset({"1", "s", "x", "m", "e", "v", "h", "?", "^", "r", "i", "l", "t"})


@dataclass(frozen=True)
class IonContact:
    """A scheduled contact: ``[start, stop]`` in POSIX seconds, rate in bytes per second."""

    start_posix_s: int
    stop_posix_s: int
    from_node: int
    to_node: int
    rate_bytes_per_s: int
    confidence: float
    line: int


@dataclass(frozen=True)
class IonRange:
    """An asserted range: OWLT (whole seconds) from ``from_node`` to ``to_node`` over
    ``[start, stop]`` (POSIX seconds)."""

    start_posix_s: int
    stop_posix_s: int
    from_node: int
    to_node: int
    owlt_s: int
    line: int


@dataclass(frozen=True)
class IonPlan:
    """The contact plan an ``ionadmin`` file leaves behind, in ION's terms.

    ``contacts`` are the scheduled contacts between two different nodes, sorted by (start,
    from, to); ``ranges`` the asserted ranges by (from, to, start). ``loopback`` and
    ``unscheduled`` count the contacts read but not used (a node to itself; registration and
    hypothetical contacts). ``node_labels`` holds marsrelay's ``# node N KIND NAME`` comments.
    """

    file: str
    contacts: tuple[IonContact, ...]
    ranges: tuple[IonRange, ...]
    loopback: int = 0
    unscheduled: int = 0
    node_labels: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    lines: int = 0
    _index: dict[tuple[int, int], tuple[list[int], list[IonRange]]] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def owlt_s(self, contact: IonContact) -> int | None:
        """The one-way light time ION gives ``contact``, or None if no range applies.

        The first range (by start) asserted from ``from_node`` to ``to_node`` whose closed
        interval holds the contact's start; failing that, when ``to_node < from_node``, the
        first one asserted from ``to_node`` to ``from_node`` (a range asserted with A < B holds
        both ways unless one B -> A is asserted for that time; one with A > B holds for A -> B
        only: ionrc(5), "a range"; ``rfx.c``, ``insertRXref``).
        """
        own = self._first_covering((contact.from_node, contact.to_node), contact.start_posix_s)
        if own is None and contact.to_node < contact.from_node:
            own = self._first_covering((contact.to_node, contact.from_node),
                                       contact.start_posix_s)
        return None if own is None else own.owlt_s

    def _first_covering(self, key: tuple[int, int], t_posix_s: int) -> IonRange | None:
        starts, ranges = self._index.get(key, ((), ()))
        # Ranges of one key do not overlap, so only the last two starting by t can hold it.
        k = bisect.bisect_right(starts, t_posix_s)
        for r in ranges[max(k - 2, 0):k]:
            if r.stop_posix_s >= t_posix_s:
                return r
        return None

    def __post_init__(self) -> None:
        index: dict[tuple[int, int], tuple[list[int], list[IonRange]]] = {}
        for r in sorted(self.ranges, key=lambda r: (r.from_node, r.to_node, r.start_posix_s)):
            starts, ranges = index.setdefault((r.from_node, r.to_node), ([], []))
            starts.append(r.start_posix_s)
            ranges.append(r)
        object.__setattr__(self, "_index", index)


class _Timeline:
    """Contacts or ranges of one pair and direction, kept sorted by start (none overlap)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: list = []

    def meeting(self, start: int, stop: int, *, closed: bool) -> IonContact | IonRange | None:
        """An item whose interval meets ``[start, stop]`` (closed: touching counts)."""
        k = bisect.bisect_right(self.starts, start)
        for item in self.items[max(k - 1, 0):k + 1]:
            if closed and item.start_posix_s <= stop and start <= item.stop_posix_s:
                return item
            if not closed and item.start_posix_s < stop and start < item.stop_posix_s:
                return item
        return None

    def add(self, item: IonContact | IonRange) -> None:
        k = bisect.bisect_right(self.starts, item.start_posix_s)
        self.starts.insert(k, item.start_posix_s)
        self.items.insert(k, item)

    def pop(self, start: int) -> IonContact | IonRange | None:
        """Remove and return the item starting at ``start`` (None if there is none)."""
        k = bisect.bisect_left(self.starts, start)
        if k < len(self.starts) and self.starts[k] == start:
            del self.starts[k]
            return self.items.pop(k)
        return None


class _Reader:
    """One pass over the lines, keeping the state ``ionadmin`` keeps."""

    def __init__(self, file: str, reference_posix_s: int | None) -> None:
        self.file = file
        self.reference = reference_posix_s
        self.contacts: dict[tuple[int, int], _Timeline] = {}
        self.ranges: dict[tuple[int, int], _Timeline] = {}
        self.labels: dict[int, tuple[str, str]] = {}
        self.loopback = 0
        self.unscheduled = 0
        self.lineno = 0

    def error(self, message: str, allowed: str | None = None) -> InputError:
        return InputError(message, file=self.file, field=f"line {self.lineno}", allowed=allowed)

    # ------------------------------------------------------------------ tokens
    def time(self, token: str, what: str) -> int:
        m = _REL_RE.match(token)
        if m:
            if self.reference is None:
                raise self.error(f"{what} {token!r} is relative but no reference time is set",
                                 "an earlier '@ yyyy/mm/dd-hh:mm:ss' line")
            posix = self.reference + int(m.group(1))
            if posix > _LAST_POSIX_S:
                raise self.error(f"{what} {token!r} falls after the year 9999", TIME_ALLOWED)
            return posix
        m = _ABS_RE.match(token)
        if not m:
            raise self.error(f"{what} {token!r} is not an ION time", TIME_ALLOWED)
        y, mo, d, h, mi, s = (int(v) for v in m.groups())
        if not (y >= 1 and 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]
                and h <= 23 and mi <= 59 and s <= 60):
            raise self.error(f"{what} {token!r} is not a calendar date and time", TIME_ALLOWED)
        return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))  # s = 60: next minute, as mktime

    def node(self, token: str, what: str) -> int:
        if not _POSITIVE_RE.match(token):
            raise self.error(f"{what} {token!r} is not an ION node number",
                             "a positive decimal integer without leading zeros")
        return int(token)

    def rate(self, token: str) -> int:
        if not _POSITIVE_RE.match(token):
            raise self.error(f"rate {token!r} is not a whole number of bytes per second above 0",
                             "a positive decimal integer (bytes/s) without leading zeros")
        return int(token)

    def confidence(self, token: str) -> float:
        try:
            value = float(token)
        except ValueError:
            value = float("nan")
        if not (0.0 < value <= 1.0):
            raise self.error(f"confidence {token!r} is not a number in (0, 1]",
                             "a decimal number above 0 and at most 1")
        return value

    # ---------------------------------------------------------------- commands
    def line(self, tokens: list[str]) -> bool:
        """Execute one command; False ends the file (``q``)."""
        cmd = tokens[0]
        if cmd == "@":
            self.at(tokens)
        elif cmd == "a" and tokens[1:2] == ["contact"]:
            self.add_contact(tokens)
        elif cmd == "a" and tokens[1:2] == ["range"]:
            self.add_range(tokens)
        elif cmd == "c" and tokens[1:2] == ["contact"]:
            self.change_contact(tokens)
        elif cmd == "d" and tokens[1:2] in (["contact"], ["range"]):
            self.delete(tokens)
        elif cmd == "q":
            return False
        elif cmd not in _SKIPPED:
            raise self.error(f"not an ionadmin contact-plan command: {' '.join(tokens)[:60]!r}",
                             COMMANDS_ALLOWED)
        return True

    def at(self, tokens: list[str]) -> None:
        if len(tokens) != 2:
            raise self.error("'@' takes one time", "@ yyyy/mm/dd-hh:mm:ss | @ +SS")
        if tokens[1] == "0":
            raise self.error("'@ 0' sets the reference to the moment ionadmin runs, which a "
                             "plan file cannot fix", "@ yyyy/mm/dd-hh:mm:ss | @ +SS")
        self.reference = self.time(tokens[1], "reference time")

    def add_contact(self, tokens: list[str]) -> None:
        if len(tokens) not in (7, 8):
            raise self.error(f"'a contact' takes 5 or 6 values, not {len(tokens) - 2}",
                             "a contact START STOP FROM TO RATE [CONFIDENCE]")
        frm, to = self.node(tokens[4], "from node"), self.node(tokens[5], "to node")
        if tokens[2] == "-1" or "0" in (tokens[2], tokens[3]):
            if tokens[2] == "-1" and frm != to:
                raise self.error("a registration contact (start -1) names one node twice",
                                 "a contact -1 -1 NODE NODE 0")
            self.unscheduled += 1
            return
        start, stop = self.time(tokens[2], "start"), self.time(tokens[3], "stop")
        if stop <= start:
            raise self.error(f"contact stop {tokens[3]} is not after its start {tokens[2]}",
                             "STOP later than START (ION refuses the contact otherwise)")
        rate = self.rate(tokens[6])
        conf = self.confidence(tokens[7]) if len(tokens) == 8 else 1.0
        if frm == to:
            self.loopback += 1
            return
        same = self.contacts.setdefault((frm, to), _Timeline())
        other = same.meeting(start, stop, closed=True)
        if other is not None:
            raise self.error(
                f"contact {frm} -> {to} overlaps or touches the one on line {other.line}",
                "contacts of one pair and direction with a gap between them (ionrc(5): "
                "scheduled contacts may not overlap; ION compares closed intervals)")
        same.add(IonContact(start, stop, frm, to, rate, conf, self.lineno))

    def add_range(self, tokens: list[str]) -> None:
        if len(tokens) != 7:
            raise self.error(f"'a range' takes 5 values, not {len(tokens) - 2}",
                             "a range START STOP A B OWLT")
        start, stop = self.time(tokens[2], "start"), self.time(tokens[3], "stop")
        a, b = self.node(tokens[4], "node"), self.node(tokens[5], "node")
        if not _NATURAL_RE.match(tokens[6]):
            raise self.error(f"OWLT {tokens[6]!r} is not a whole number of seconds",
                             "a decimal integer >= 0 (one-way light time, s)")
        if stop <= start:
            raise self.error(f"range stop {tokens[3]} is not after its start {tokens[2]}",
                             "STOP later than START")
        same = self.ranges.setdefault((a, b), _Timeline())
        other = same.meeting(start, stop, closed=False)
        if other is not None:
            raise self.error(
                f"range {a} -> {b} overlaps the one on line {other.line}",
                "ranges of one pair and direction that do not overlap (they may touch)")
        same.add(IonRange(start, stop, a, b, int(tokens[6]), self.lineno))

    def change_contact(self, tokens: list[str]) -> None:
        if len(tokens) not in (6, 7):
            raise self.error(f"'c contact' takes 4 or 5 values, not {len(tokens) - 2}",
                             "c contact START FROM TO RATE [CONFIDENCE]")
        start = self.time(tokens[2], "start")
        frm, to = self.node(tokens[3], "from node"), self.node(tokens[4], "to node")
        rate = self.rate(tokens[5])
        same = self.contacts.get((frm, to))
        c = same.pop(start) if same is not None else None
        if c is not None:
            conf = self.confidence(tokens[6]) if len(tokens) == 7 else c.confidence
            same.add(IonContact(c.start_posix_s, c.stop_posix_s, frm, to, rate, conf, c.line))
            return
        raise self.error(f"no contact {frm} -> {to} starts at {tokens[2]}",
                         "the START of a contact added on an earlier line")

    def delete(self, tokens: list[str]) -> None:
        what = tokens[1]
        if len(tokens) != 5:
            raise self.error(f"'d {what}' takes 3 values, not {len(tokens) - 2}",
                             f"d {what} START|* FROM TO")
        frm, to = self.node(tokens[3], "node"), self.node(tokens[4], "node")
        table = self.contacts if what == "contact" else self.ranges
        if tokens[2] == "*":
            table.pop((frm, to), None)
            return
        if what == "contact" and tokens[2] in ("0", "-1"):
            return  # hypothetical or registration contacts are not kept
        start = self.time(tokens[2], "start")
        if (frm, to) in table:
            table[(frm, to)].pop(start)


def parse_ion(text: str, *, file: str | None = None,
              reference_posix_s: int | None = None) -> IonPlan:
    """Read ``ionadmin`` command text (ionrc(5)) into an :class:`IonPlan`.

    ``reference_posix_s`` is the reference time before the first ``@`` line (ION uses the
    moment ``ionadmin`` starts; without it a ``+SS`` time before any ``@`` is an error).
    Raises :class:`~marsrelay.errors.InputError` naming ``file``, the line and what is allowed.
    """
    reader = _Reader(file or "ION contact plan", reference_posix_s)
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        reader.lineno = lineno
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _NODE_LABEL_RE.match(line)
            if m:
                number, label = int(m.group(1)), (m.group(3), m.group(2))
                if reader.labels.get(number, label) != label:
                    raise reader.error(f"node {number} is labelled twice",
                                       "one '# node NUMBER KIND NAME' line per node")
                reader.labels[number] = label
            continue
        if not reader.line(line.split()):
            break
    contacts = sorted((c for cs in reader.contacts.values() for c in cs.items),
                      key=lambda c: (c.start_posix_s, c.from_node, c.to_node))
    ranges = sorted((r for rs in reader.ranges.values() for r in rs.items),
                    key=lambda r: (r.from_node, r.to_node, r.start_posix_s))
    return IonPlan(reader.file, tuple(contacts), tuple(ranges), reader.loopback,
                   reader.unscheduled, dict(reader.labels), len(lines))
