"""Changing a district's settings: the rules between values, and an audit event per change."""

from __future__ import annotations

from moderation.accounts import sso
from moderation.accounts.services import set_district_time_zone
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.settings.models import SETTINGS, SPECS, DistrictSettings


class SettingsError(Exception):
    """A rule between settings is broken; `key` names the setting the message belongs beside."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        # core.forms.submit shows an error that names its field beside that field.
        self.field = key


def check(values: dict) -> None:
    """Refuse values outside their bounds or that contradict each other."""
    for key, value in values.items():
        spec = SPECS[key]
        if spec.kind is bool:
            continue
        low, high = spec.minimum, spec.maximum
        if low is not None and (value <= low if spec.minimum_open else value < low):
            word = "more than" if spec.minimum_open else "at least"
            raise SettingsError(key, f"{spec.label} must be {word} {low:g}.")
        if high is not None and value > high:
            raise SettingsError(key, f"{spec.label} must be at most {high:g}.")
    if values["alpha_discard"] >= values["alpha_rely"]:
        raise SettingsError("alpha_discard",
                            f"{SPECS['alpha_discard'].label} must be below "
                            f"{SPECS['alpha_rely'].label.lower()} "
                            f"({values['alpha_rely']:g}).")


def update_settings(district, actor, changes: dict) -> list[str]:
    """Store `changes` (values by setting key; the others stay as they are) for `district`.
    Returns the keys that changed; each change is audit-logged with its value before and
    after."""
    row = db.session.get(DistrictSettings, district.id)
    if row is None:
        row = DistrictSettings(district_id=district.id,
                               **{spec.key: spec.default for spec in SETTINGS})
        db.session.add(row)
    values = {spec.key: getattr(row, spec.key) for spec in SETTINGS} | changes
    check(values)
    changed = [spec.key for spec in SETTINGS if getattr(row, spec.key) != values[spec.key]]
    if "password_login" in changed and not values["password_login"] and not sso.is_configured():
        # Nobody could log in: there would be no single sign-on button to send them to.
        raise SettingsError("password_login",
                            "Password login can be turned off only once single sign-on is set "
                            "up on this server (OIDC_ISSUER, OIDC_CLIENT_ID and "
                            "OIDC_CLIENT_SECRET; see the README), or nobody could log in.")
    for key in changed:
        audit.record("district_setting_changed", actor=actor, obj=district, setting=key,
                     before=getattr(row, key), after=values[key])
        setattr(row, key, values[key])
    if changed:
        row.updated_at = utcnow()
        row.updated_by_id = actor.id
    db.session.flush()
    return changed


def update_district_settings(district, actor, time_zone: str, values: dict) -> list[str]:
    """The settings page's one write: the district's time zone and every other setting.
    Returns the names of what changed ("time_zone" and setting keys)."""
    changed = ["time_zone"] if set_district_time_zone(district, actor, time_zone) else []
    return changed + update_settings(district, actor, values)
