"""Stored UTC times read in a zone, and typed local times turned back into UTC, including the
nights the clocks change."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from moderation.core import timezones

NEW_YORK = ZoneInfo("America/New_York")


def test_the_same_utc_hour_reads_an_hour_apart_across_the_spring_change():
    # 2026-03-08: New York's clocks go from 02:00 EST to 03:00 EDT.
    before = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
    after = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert timezones.local_time(before, NEW_YORK) == "7 Mar 2026, 09:00 EST"
    assert timezones.local_time(after, NEW_YORK) == "9 Mar 2026, 10:00 EDT"


def test_the_same_utc_hour_reads_an_hour_apart_across_the_autumn_change():
    # 2026-11-01: New York's clocks go back from 02:00 EDT to 01:00 EST.
    assert timezones.local_time(datetime(2026, 10, 31, 14, tzinfo=UTC), NEW_YORK) == \
        "31 Oct 2026, 10:00 EDT"
    assert timezones.local_time(datetime(2026, 11, 2, 14, tzinfo=UTC), NEW_YORK) == \
        "2 Nov 2026, 09:00 EST"


def test_the_hour_that_happens_twice_is_told_apart_by_its_abbreviation():
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert timezones.local_time(first, NEW_YORK) == "1 Nov 2026, 01:30 EDT"
    assert timezones.local_time(second, NEW_YORK) == "1 Nov 2026, 01:30 EST"


def test_a_time_stored_without_its_zone_is_read_as_utc():
    # SQLite returns stored times naive; they were written as UTC.
    assert timezones.local_time(datetime(2026, 12, 3, 14, 15), NEW_YORK) == \
        "3 Dec 2026, 09:15 EST"


def test_the_local_date_can_differ_from_the_utc_date():
    late_evening = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert timezones.local_date(late_evening, NEW_YORK) == "3 Dec 2026"
    assert timezones.local_date(late_evening, ZoneInfo("UTC")) == "4 Dec 2026"


def test_iso_carries_the_local_offset():
    moment = datetime(2026, 12, 3, 14, 15, 7, 123456, tzinfo=UTC)
    assert timezones.local_iso(moment, NEW_YORK) == "2026-12-03T09:15:07-05:00"
    assert timezones.local_iso(moment, ZoneInfo("UTC")) == "2026-12-03T14:15:07+00:00"


def test_zones_without_an_abbreviation_show_their_offset_from_utc():
    moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert timezones.local_time(moment, ZoneInfo("Asia/Dubai")) == "3 Dec 2026, 12:00 UTC+04"
    assert timezones.local_time(moment, ZoneInfo("UTC")) == "3 Dec 2026, 08:00 UTC"


def test_a_typed_time_in_the_repeated_hour_means_the_first_one():
    typed = datetime(2026, 11, 1, 1, 30)
    assert timezones.local_to_utc(typed, NEW_YORK) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_a_typed_time_that_never_happens_lands_past_the_gap():
    # 02:30 does not exist on 2026-03-08 in New York; read at the offset before the change it
    # is 07:30 UTC, which the clocks show as 03:30 EDT.
    utc = timezones.local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert utc == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert timezones.local_time(utc, NEW_YORK) == "8 Mar 2026, 03:30 EDT"


def test_a_typed_time_must_come_without_a_zone():
    with pytest.raises(ValueError, match="without a zone"):
        timezones.local_to_utc(datetime(2026, 3, 8, 2, 30, tzinfo=UTC), NEW_YORK)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25),
                                            (date(2026, 12, 3), 24)])
def test_a_local_day_runs_from_midnight_to_midnight_whatever_its_length(day, hours):
    start, end = timezones.local_day_bounds(day, NEW_YORK)
    assert start.astimezone(NEW_YORK).hour == 0 and start.astimezone(NEW_YORK).date() == day
    assert (end - start).total_seconds() == hours * 3600


def test_a_day_whose_midnight_is_skipped_starts_at_its_first_hour():
    # Santiago moves its clocks from 00:00 to 01:00 on 2026-09-06: that day has no midnight.
    santiago = ZoneInfo("America/Santiago")
    start, _ = timezones.local_day_bounds(date(2026, 9, 6), santiago)
    assert start.astimezone(santiago) == datetime(2026, 9, 6, 1, 0, tzinfo=santiago)


def test_unknown_and_legacy_zone_names_are_refused_with_a_message():
    assert timezones.zone_named("Europe/London").key == "Europe/London"
    for name in ("Mars/Olympus_Mons", "US/Eastern", "", "../../etc/passwd"):
        with pytest.raises(timezones.UnknownZoneError, match="is not a time zone we know"):
            timezones.zone_named(name)


def test_the_offered_zones_start_with_utc_and_are_grouped_by_area():
    names = timezones.zone_names()
    assert names[0] == "UTC" and "America/New_York" in names and "EST5EDT" not in names
    choices = timezones.zone_choices()
    assert ("America/New_York", "New York") in choices["America"]
    assert ("America/Argentina/Buenos_Aires", "Argentina / Buenos Aires") in choices["America"]


def test_a_stored_zone_the_database_no_longer_knows_falls_back():
    assert timezones.first_known([None, "Gone/Away", "Europe/Paris"]) == "Europe/Paris"
    assert timezones.first_known([None]) == "UTC"
