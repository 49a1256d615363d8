"""Reads of a district's settings, for every domain that acts on them."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.core.extensions import db
from moderation.settings.models import SETTINGS, DistrictSettings


@dataclass(frozen=True)
class Settings:
    """A district's settings as plain values (the defaults where never changed)."""

    alpha_discard: float
    alpha_rely: float
    false_discovery_rate: float
    rater_severity: float
    school_effect: float
    local_gap: float
    min_raters: int
    min_cross_marked_samples: int
    practice_visible_to_coaches: bool
    calibration_visible_to_coaches: bool
    teachers_facilitate_sessions: bool
    password_login: bool

    def changed_from_default(self) -> list[str]:
        """Keys of the settings the district has changed from their defaults."""
        return [spec.key for spec in SETTINGS if getattr(self, spec.key) != spec.default]


DEFAULTS = Settings(**{spec.key: spec.default for spec in SETTINGS})


def settings_for(district_id: int) -> Settings:
    """The settings of the district, or the defaults if it never changed any."""
    row = db.session.get(DistrictSettings, district_id)
    if row is None:
        return DEFAULTS
    return Settings(**{spec.key: getattr(row, spec.key) for spec in SETTINGS})


def password_login_allowed(user) -> bool:
    """Whether one of `user`'s districts still allows password login (registered as a rule of
    accounts.services.may_use_password). Someone in no district is not ruled by any."""
    district_ids = {m.district_id for m in user.memberships}
    if not district_ids:
        return True
    off = set(db.session.execute(
        db.select(DistrictSettings.district_id).where(
            DistrictSettings.district_id.in_(district_ids),
            DistrictSettings.password_login.is_(False))).scalars())
    return bool(district_ids - off)
