"""The one permission layer: views declare the roles they serve; everything else is refused.

A user's scope is their memberships: school_ids() and district_ids() read it for every domain,
so "a coach of this school" or "a district-wide coach" means the same everywhere.
"""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from moderation.accounts.models import Role


def school_ids(user, *roles: Role) -> set[int]:
    """Schools where the user holds one of `roles` at that school (district-wide roles name no
    school, so they count in district_ids() only)."""
    return {m.school_id for m in user.memberships
            if m.role in roles and m.school_id is not None}


def district_ids(user, *roles: Role, district_wide: bool = False) -> set[int]:
    """Districts where the user holds one of `roles`, at any of its schools or district-wide;
    with `district_wide`, only the memberships that cover the whole district."""
    return {m.district_id for m in user.memberships
            if m.role in roles and not (district_wide and m.school_id is not None)}


def role_required(*roles: Role):
    """Allow the view only to logged-in users holding one of `roles`; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


HOME_ENDPOINT = {
    Role.DISTRICT_ADMIN: "accounts.district_home",
    Role.COACH: "accounts.coach_home",
    Role.TEACHER: "accounts.teacher_home",
    # A school leader's page is their school's work, until its results have one of their own.
    Role.SCHOOL_LEADER: "samples.list_samples",
}


def forbidden_hint() -> str | None:
    """The refused page's hint for a district administrator: the general one tells people to
    ask their district administrator, which is who they are."""
    if current_user.is_authenticated and current_user.has_role(Role.DISTRICT_ADMIN):
        return ("This page belongs to another role, such as a teacher's or a coach's. The menu "
                "at the top lists the pages open to you; roles are given by the team that runs "
                "the platform for your district.")
    return None


def home_endpoint(user) -> str:
    """The landing page of the user's broadest role."""
    for role in (Role.DISTRICT_ADMIN, Role.COACH, Role.TEACHER, Role.SCHOOL_LEADER):
        if user.has_role(role):
            return HOME_ENDPOINT[role]
    return "accounts.no_role"
