"""The viewer's time zone in requests and templates.

Core does not know who a user is or which district they belong to: create_app registers the
accounts function that names a user's zone. Templates show stored times with the filters
`local_time` ("3 Dec 2026, 09:15 EST"), `local_date` ("3 Dec 2026") and `local_iso` (for
`<time datetime>`); views read `viewer_zone()` to turn a date or time someone typed into UTC
with `timezones.local_to_utc` or `timezones.local_day_bounds`.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user

from moderation.core import timezones


def viewer_zone() -> ZoneInfo:
    """The logged-in user's zone (UTC for anyone else and outside a request), read once per
    request."""
    if not has_request_context():
        return ZoneInfo(timezones.DEFAULT_ZONE)
    if "viewer_zone" not in g:
        zone_name_of = current_app.extensions["viewer_zone_name"]
        name = (zone_name_of(current_user) if current_user.is_authenticated
                else timezones.DEFAULT_ZONE)
        g.viewer_zone = ZoneInfo(name)
    return g.viewer_zone


def forget_viewer_zone() -> None:
    """After the user changes their zone (or their district's), so the page they get back
    already shows the new one."""
    g.pop("viewer_zone", None)


def _or_blank(format_moment: Callable) -> Callable:
    # A time that is not set (a round not closed yet) shows as nothing, as strftime on None
    # would have failed.
    return lambda moment, *args, **kwargs: (
        "" if moment is None else format_moment(moment, viewer_zone(), *args, **kwargs))


def init_app(app: Flask, zone_name_of: Callable[[object], str]) -> None:
    """Use `zone_name_of(user)` to name the viewer's zone, and register the filters."""
    app.extensions["viewer_zone_name"] = zone_name_of
    app.add_template_filter(_or_blank(timezones.local_time), "local_time")
    app.add_template_filter(_or_blank(timezones.local_date), "local_date")
    app.add_template_filter(_or_blank(timezones.local_iso), "local_iso")
    app.add_template_global(lambda: viewer_zone().key, "viewer_zone_name")
