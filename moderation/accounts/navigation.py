"""The main navigation, per role. Domain packages add their pages here as they arrive.

Navigation is a convenience, not a guard: every view still checks its roles itself.
"""

from dataclasses import dataclass

from flask_login import current_user

from moderation.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    role: Role
    endpoint: str
    label: str


NAV_ITEMS: list[NavItem] = [
    NavItem(Role.TEACHER, "accounts.teacher_home", "My scoring"),
    NavItem(Role.COACH, "accounts.coach_home", "Coaching"),
    NavItem(Role.DISTRICT_ADMIN, "accounts.district_home", "District"),
    NavItem(Role.DISTRICT_ADMIN, "accounts.audit_log", "Audit log"),
    NavItem(Role.TEACHER, "rubrics.list_rubrics", "Rubrics"),
    NavItem(Role.COACH, "rubrics.list_rubrics", "Rubrics"),
    NavItem(Role.DISTRICT_ADMIN, "rubrics.list_rubrics", "Rubrics"),
    NavItem(Role.TEACHER, "samples.list_samples", "Work samples"),
    NavItem(Role.COACH, "samples.list_samples", "Work samples"),
    # Purging a sample with its scores starts from the archived samples on this page.
    NavItem(Role.DISTRICT_ADMIN, "samples.list_samples", "Work samples"),
    NavItem(Role.SCHOOL_LEADER, "samples.list_samples", "Our school's work"),
    NavItem(Role.COACH, "samples.list_anchors", "Anchors"),
    NavItem(Role.DISTRICT_ADMIN, "samples.list_anchors", "Anchors"),
    NavItem(Role.TEACHER, "scoring.show_queue", "My queue"),
    NavItem(Role.TEACHER, "practice.show_practice", "Practice"),
    NavItem(Role.COACH, "scoring.list_rounds", "Scoring rounds"),
    NavItem(Role.TEACHER, "sessions.list_sessions", "Sessions"),
    NavItem(Role.COACH, "sessions.list_sessions", "Sessions"),
    NavItem(Role.DISTRICT_ADMIN, "scoring.list_rounds", "Scoring rounds"),
    NavItem(Role.DISTRICT_ADMIN, "sessions.district_sessions", "Sessions"),
]


def nav_items_for(user) -> list[NavItem]:
    roles = user.roles()
    items = [item for item in NAV_ITEMS if item.role in roles]
    # A page offered to two of the user's roles (teacher and coach) is listed once.
    return [item for i, item in enumerate(items)
            if item.endpoint not in {earlier.endpoint for earlier in items[:i]}]


def inject_navigation() -> dict:
    if not current_user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": nav_items_for(current_user)}
