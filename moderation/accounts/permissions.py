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
}


def home_endpoint(user) -> str:
    """The landing page of the user's broadest role."""
    for role in (Role.DISTRICT_ADMIN, Role.COACH, Role.TEACHER):
        if user.has_role(role):
            return HOME_ENDPOINT[role]
    return "accounts.no_role"
