"""A district's settings: one row per district, its values described once in SETTINGS.

Each spec names a setting, its kind, default, bounds, where the default comes from and what it
does. The model's columns, the form, the page, the audit text and `queries.settings_for` are all
built from this list, so a default lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from moderation.core.extensions import db

KRIPPENDORFF = ("Krippendorff, Content Analysis, 2nd ed. (2004): rely on data with alpha of "
                ".800 or more; between .667 and .800 only for tentative conclusions.")
PROJECT_SIZE = ("A working default of this platform's statistics engine, not a published "
                "standard: set it for your district.")


@dataclass(frozen=True)
class SettingSpec:
    key: str
    group: str
    label: str
    kind: type  # float, int or bool
    default: float | int | bool
    source: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    # An open bound excludes the value itself (a false-discovery rate of 0 means nothing).
    minimum_open: bool = False
    unit: str = ""

    @property
    def is_switch(self) -> bool:
        return self.kind is bool

    @property
    def default_text(self) -> str:
        return self.text_of(self.default)

    def text_of(self, value) -> str:
        """A value as the page and the audit log write it: "on", "0.667 logits", "3"."""
        if self.is_switch:
            return "on" if value else "off"
        return f"{value:g} {self.unit}".strip()


GROUPS = ("Reliability", "Findings", "Suppression", "Privacy", "Sessions", "Logging in")

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("alpha_discard", "Reliability", "Lowest usable reliability", float, 0.667,
                KRIPPENDORFF, "Below this Krippendorff's alpha a criterion's scores are not "
                "relied on.", minimum=0.0, maximum=1.0),
    SettingSpec("alpha_rely", "Reliability", "Reliable from", float, 0.800, KRIPPENDORFF,
                "From this alpha a criterion's scores are relied on; between the two "
                "thresholds only tentatively.", minimum=0.0, maximum=1.0),
    SettingSpec("false_discovery_rate", "Findings", "False-discovery rate", float, 0.05,
                "Benjamini & Hochberg (1995), controlling the false discovery rate; .05 is "
                "their conventional level. The engine reports Benjamini-Hochberg q-values.",
                "Of the raters or schools flagged at once, at most this share is expected to "
                "be flagged by chance.", minimum=0.0, maximum=0.5, minimum_open=True),
    SettingSpec("rater_severity", "Findings", "Practical size: rater severity", float,
                0.5, PROJECT_SIZE, "A rater is named only when they score at least this much "
                "harsher or more lenient than the average rater.", minimum=0.05, maximum=5.0,
                unit="logits"),
    SettingSpec("school_effect", "Findings", "Practical size: school standard", float,
                0.3, PROJECT_SIZE, "A school is named only when its raters' mean severity "
                "differs by at least this much.", minimum=0.05, maximum=5.0, unit="logits"),
    SettingSpec("local_gap", "Findings", "Practical size: local against blind scores", float,
                0.25, "A quarter of a rubric level; a working default of this platform's "
                "statistics engine.", "A school is named only when its local scores and the "
                "blind scores of its work differ by at least this much.", minimum=0.05,
                maximum=2.0, unit="score points"),
    SettingSpec("min_raters", "Suppression", "Fewest raters in a result", int, 3,
                "A small-cell rule: with fewer raters one person's scores could be read off a "
                "group's result.", "Results over fewer raters than this are not shown.",
                minimum=2, maximum=100),
    SettingSpec("min_cross_marked_samples", "Suppression", "Fewest cross-marked samples", int,
                10, "The fewest samples scored by two or more raters for an agreement figure "
                "to mean much; a working default of this platform.",
                "Agreement over fewer cross-marked samples than this is not shown.",
                minimum=2, maximum=1000),
    SettingSpec("practice_visible_to_coaches", "Privacy", "Coaches see practice", bool, False,
                "Off by default: practice is for learning, private to each teacher.",
                "Coaches may see the practice history of the teachers in their scope."),
    SettingSpec("calibration_visible_to_coaches", "Privacy",
                "Coaches see individual calibration results", bool, False,
                "Off by default: a rater's own results are theirs unless the district decides.",
                "Coaches may see each teacher's own calibration results, not only a group's."),
    SettingSpec("teachers_facilitate_sessions", "Sessions", "Teachers may run sessions", bool,
                False, "Off by default: coaches run joint-scoring sessions; a district may let "
                "experienced teachers facilitate their colleagues too.",
                "Teachers may create and facilitate live joint-scoring sessions, not only "
                "coaches."),
    SettingSpec("password_login", "Logging in", "Password login allowed", bool, True,
                "On by default: accounts start with passwords. Turn it off once everyone "
                "signs in through the district's provider (single sign-on must be set up on "
                "this server first).",
                "Off means single sign-on only: people whose districts all have it off cannot "
                "log in with a password and are sent to the single sign-on button."),
)

SPECS = {spec.key: spec for spec in SETTINGS}


def _column(key: str):
    return mapped_column(nullable=False, default=SPECS[key].default)


class DistrictSettings(db.Model):
    """A district's settings; created with the defaults on its first change."""

    __tablename__ = "district_settings"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    alpha_discard: Mapped[float] = _column("alpha_discard")
    alpha_rely: Mapped[float] = _column("alpha_rely")
    false_discovery_rate: Mapped[float] = _column("false_discovery_rate")
    rater_severity: Mapped[float] = _column("rater_severity")
    school_effect: Mapped[float] = _column("school_effect")
    local_gap: Mapped[float] = _column("local_gap")
    min_raters: Mapped[int] = _column("min_raters")
    min_cross_marked_samples: Mapped[int] = _column("min_cross_marked_samples")
    practice_visible_to_coaches: Mapped[bool] = _column("practice_visible_to_coaches")
    calibration_visible_to_coaches: Mapped[bool] = _column("calibration_visible_to_coaches")
    teachers_facilitate_sessions: Mapped[bool] = _column("teachers_facilitate_sessions")
    password_login: Mapped[bool] = _column("password_login")
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
