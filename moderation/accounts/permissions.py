"""The one permission layer: views declare the roles they serve; everything else is refused."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from moderation.accounts.models import Role


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


def forbidden_hint() -> str | None:
    """The refused page's hint for a district administrator: the general one tells people to
    ask their district administrator, which is who they are."""
    if current_user.is_authenticated and current_user.has_role(Role.DISTRICT_ADMIN):
        return ("This page belongs to another role, such as a teacher's or a coach's. The menu "
                "at the top lists the pages open to you.")
    return None


def home_endpoint(user) -> str:
    """The landing page of the user's broadest role."""
    for role in (Role.DISTRICT_ADMIN, Role.COACH, Role.TEACHER):
        if user.has_role(role):
            return HOME_ENDPOINT[role]
    return "accounts.no_role"
