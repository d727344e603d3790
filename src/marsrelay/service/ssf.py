"""CCSDS Simple Schedule Format (CCSDS 902.1-B, "Simple Schedule Format Specification") XML.

One ``<simpleSchedule>`` (namespace ``urn:ccsds:schema:cssm:1.0.0``) with a
``<simpleScheduleHeader>`` and one ``<scheduledPackage>`` per (orbiter, lander): the service
user is the lander's agency, the providing "site" the orbiter (``siteRef``) and its UHF relay
radio the aperture (``apertureRef``). Its ``<scheduledActivity>`` elements (``COMMITTED``) are
the acknowledged and implemented passes, ``beginningOfTrack``/``endOfTrack`` the granted window;
``<serviceInfo>`` says return (``TELEMETRY``) and, where files go up, forward (``TELECOMMAND``)
relay in UHF. Times are ISO calendar UTC with milliseconds and ``Z``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from marsrelay.service.timefmt import format_ms

__all__ = ["SSF_NAMESPACE", "SsfActivity", "simple_schedule_xml"]

SSF_NAMESPACE = "urn:ccsds:schema:cssm:1.0.0"


@dataclass(frozen=True)
class SsfActivity:
    request_id: int
    orbiter: str
    lander: str
    user_agency: str
    provider_agency: str
    start_ms: int
    end_ms: int
    state: str
    return_bits: int
    forward_bits: int


def _attrs(**kv: object) -> str:
    return " ".join(f"{k}={quoteattr(str(v))}" for k, v in kv.items() if v is not None)


def simple_schedule_xml(
    activities: Sequence[SsfActivity],
    *,
    generated_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    originator: str,
) -> str:
    """The SSF document for ``activities`` (grouped per orbiter, time-ordered)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<simpleSchedule xmlns="{SSF_NAMESPACE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{SSF_NAMESPACE} 902x01b1-SmplSchd.xsd" '
        'srvMgtEntityType="SIMPLE_SCHEDULE">',
    ]
    header = _attrs(
        originatingOrganization=originator or "marsrelay",
        generationTime=format_ms(generated_ms),
        status="OPERATIONAL",
        inclusionType="START_INCLUSION",
        version="1",
        startTime=format_ms(start_ms) if start_ms is not None else format_ms(generated_ms),
        endTime=format_ms(end_ms) if end_ms is not None else format_ms(generated_ms),
    )
    lines.append(f"  <simpleScheduleHeader {header}/>")
    packages: dict[tuple[str, str], list[SsfActivity]] = {}
    for a in sorted(activities, key=lambda a: (a.orbiter, a.lander, a.start_ms, a.request_id)):
        packages.setdefault((a.orbiter, a.lander), []).append(a)
    for (orbiter, lander), acts in packages.items():
        pkg = _attrs(
            user=acts[0].user_agency,
            comment=f"UHF relay by {orbiter} ({acts[0].provider_agency}) for {lander}",
            scheduledPackageId=f"{orbiter}/{lander}",
        )
        lines.append(f"  <scheduledPackage {pkg}>")
        for a in acts:
            act = _attrs(
                scheduledActivityId=f"{orbiter}-{a.request_id}",
                activityStatus="COMMITTED",
                siteRef=orbiter,
                apertureRef=f"{orbiter}-UHF",
                beginningOfTrack=format_ms(a.start_ms),
                endOfTrack=format_ms(a.end_ms),
                beginningOfActivity=format_ms(a.start_ms),
                endOfActivity=format_ms(a.end_ms),
            )
            lines.append(f"    <scheduledActivity {act}>")
            lines.append('      <serviceInfo serviceType="TELEMETRY" frequencyBand="UHF"/>')
            if a.forward_bits:
                lines.append('      <serviceInfo serviceType="TELECOMMAND" frequencyBand="UHF"/>')
            lines.append("    </scheduledActivity>")
        lines.append("  </scheduledPackage>")
    lines.append("</simpleSchedule>")
    return "\n".join(lines) + "\n"
