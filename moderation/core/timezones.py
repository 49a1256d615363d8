"""Time zones: every stored time is UTC; people read and type times in their own zone.

Pure functions over zoneinfo (the IANA database), no Flask: which zone names are offered, how a
stored time reads in a zone, and what a date or wall-clock time someone typed means in UTC.
Which zone is the viewer's is decided in accounts (their own choice, else their district's);
core/local_time.py puts that zone into the templates.
"""

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

DEFAULT_ZONE = "UTC"
# The IANA areas whose zones are places ("America/Chicago"). The database also carries legacy
# aliases ("US/Eastern", "EST5EDT", "Etc/GMT+5") that only repeat or confuse these.
_PLACE_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
                "Europe", "Indian", "Pacific")


class UnknownZoneError(ValueError):
    """A zone name that is not offered; the message is for the user."""


@cache
def zone_names() -> tuple[str, ...]:
    """The zone names people may choose, "UTC" first, then places in alphabetical order."""
    places = sorted(name for name in zoneinfo.available_timezones()
                    if name.split("/", 1)[0] in _PLACE_AREAS and "/" in name)
    return (DEFAULT_ZONE, *places)


def zone_choices() -> dict[str, list[tuple[str, str]]]:
    """The offered zones grouped by area, as (name, place label) pairs, for a select menu."""
    groups: dict[str, list[tuple[str, str]]] = {
        "Universal": [(DEFAULT_ZONE, "UTC (Coordinated Universal Time)")]}
    for name in zone_names()[1:]:
        area, place = name.split("/", 1)
        groups.setdefault(area, []).append((name, place.replace("_", " ").replace("/", " / ")))
    return groups


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name`, or UnknownZoneError saying so."""
    if name not in zone_names():
        shown = name if len(name) <= 64 else name[:64] + "…"
        raise UnknownZoneError(f"“{shown}” is not a time zone we know. Choose one from the "
                               "list, such as America/New_York or Europe/London.")
    return zoneinfo.ZoneInfo(name)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time. SQLite hands back stored times without their zone; they
    were stored as UTC, so a naive value is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def abbreviation(moment: datetime) -> str:
    """The zone's short name at `moment` ("EST", "EDT", "UTC"); zones that have none give
    their offset, written "UTC+04" rather than a bare "+04"."""
    name = moment.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def local_time(moment: datetime, zone: tzinfo, *, with_zone: bool = True) -> str:
    """A stored time as people in `zone` read it: "3 Dec 2026, 09:15 EST"."""
    local = as_utc(moment).astimezone(zone)
    text = f"{local.day} {local:%b %Y, %H:%M}"
    return f"{text} {abbreviation(local)}" if with_zone else text


def local_date(moment: datetime, zone: tzinfo) -> str:
    """The calendar day of a stored time in `zone`: "3 Dec 2026"."""
    local = as_utc(moment).astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def local_iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 with the offset ("2026-12-03T09:15:00-05:00"): exact for machines and
    spreadsheets, and still the local wall time for the person reading it."""
    return as_utc(moment).astimezone(zone).replace(microsecond=0).isoformat()


def local_to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time someone typed (naive) in `zone`.

    Twice a year the wall clock misbehaves, and this follows the clock on the wall:
    - a time that happens twice (01:30 on the night clocks go back) means the first one;
    - a time that never happens (02:30 on the night clocks go forward) is taken at the offset
      before the change, so it lands as far past the gap as it was into it (03:30 daylight
      time), which is what a clock that was not yet changed would have shown.
    Both are zoneinfo's reading with fold=0 (PEP 495).
    """
    if wall.tzinfo is not None:
        raise ValueError("local_to_utc takes the wall-clock time as typed, without a zone")
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants where `day` begins and the next day begins in `zone`, for filters
    whose dates are inclusive: `start <= t < end`. A day is not always 24 hours long (23 and
    25 on the days the clocks change), and in a few zones midnight itself is skipped."""
    return (local_to_utc(datetime.combine(day, time.min), zone),
            local_to_utc(datetime.combine(day + timedelta(days=1), time.min), zone))


def today_in(name: str | None) -> date:
    """The calendar day it is now in the zone called `name` (UTC for an unknown name)."""
    return datetime.now(zoneinfo.ZoneInfo(first_known([name]))).date()


def first_known(names: Iterable[str | None]) -> str:
    """The first name that is an offered zone, else UTC: a stored name that a newer time zone
    database dropped falls back rather than breaking every page."""
    return next((name for name in names if name and name in zone_names()), DEFAULT_ZONE)
