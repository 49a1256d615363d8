"""Writes and rules for accounts. Services flush, never commit: the view commits once."""

import re
from collections.abc import Callable, Iterable

from zxcvbn import zxcvbn

from moderation.accounts import sso
from moderation.accounts.models import (
    District,
    Membership,
    Role,
    School,
    User,
    check_password_of_no_one,
)
from moderation.accounts.queries import user_by_email
from moderation.core import audit, timezones
from moderation.core.extensions import db

MIN_PASSWORD_LENGTH = 10
# zxcvbn's score, 0-4; 3 is "safely unguessable", about 10^8 guesses or more.
MIN_PASSWORD_SCORE = 3
# zxcvbn slows down on long input and refuses more than 72 characters: estimate on the start.
ESTIMATED_LENGTH = 72


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""


class WeakPasswordError(AccountError):
    """The new password would be easy to guess; the message says why."""


class PasswordLoginOff(AccountError):
    """The password was right, but the person's districts sign in through single sign-on
    only. Raised only after the password matched, so it tells nothing to someone guessing."""


# Rules that may forbid a person passwords, registered from create_app (the district setting
# lives in settings, which accounts cannot import): settings registers "one of the person's
# districts still allows password login".
PASSWORD_RULES: list[Callable[[User], bool]] = []


def register_password_rule(rule: Callable[[User], bool]) -> None:
    """Add `rule` to PASSWORD_RULES once, however many apps create_app() builds."""
    if rule not in PASSWORD_RULES:
        PASSWORD_RULES.append(rule)


def may_use_password(user: User) -> bool:
    """Whether `user` may have and use a local password: the one check that password login,
    invitations, password resets and the set-password page ask. False only when every
    district they belong to signs in through single sign-on only; always True while single
    sign-on is not set up here, so removing it never locks anyone out."""
    if not sso.is_configured():
        return True
    return all(rule(user) for rule in PASSWORD_RULES)


def check_password_strength(password: str, context: Iterable[str]) -> None:
    """Refuse short, common and guessable passwords, and those made of `context`: the person's
    email, name, schools and districts (split into words, which zxcvbn matches whole)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    texts = [text.lower() for text in context]
    words = {word for text in texts for word in re.split(r"\W+", text) if len(word) >= 3}
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=sorted(words.union(texts)))
    if result["score"] >= MIN_PASSWORD_SCORE:
        return
    personal = any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"])
    reason = result["feedback"]["warning"] or (
        "It is made from your email, name, school or district." if personal
        else "It would be easy to guess.")
    raise WeakPasswordError(" ".join(["Choose a stronger password.", reason,
                                      *result["feedback"]["suggestions"]]))


def password_context(user: User) -> list[str]:
    """What someone who knows the person would try first."""
    places = [m.district.name for m in user.memberships]
    places += [m.school.name for m in user.memberships if m.school is not None]
    return [user.email, user.display_name, *places]


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Failed attempts are audited.
    PasswordLoginOff when the password is right but the person's districts allow single
    sign-on only (the refusal is audited too; the view commits it)."""
    user = user_by_email(email)
    # One password check whatever the account, so the time does not tell which emails exist.
    password_matches = (user.check_password(password) if user is not None
                        else check_password_of_no_one(password))
    if user is None or not user.is_active or not password_matches:
        audit.record("login_failed", actor=user, email_digest=audit.email_digest(email))
        return None
    if not may_use_password(user):
        audit.record("password_login_refused", actor=user, obj=user)
        raise PasswordLoginOff("Your district signs in through single sign-on only.")
    audit.record("login", actor=user, obj=user)
    return user


def authenticate_single_sign_on(email: str) -> User | None:
    """The active user whose email (any case) the provider verified, or None. Never creates
    an account: administrators add people. Both outcomes are audited; a refusal keeps only
    the address's keyed hash, as a failed password login does."""
    user = user_by_email(email)
    if user is None or not user.is_active:
        audit.record("sso_login_refused", actor=user, email_digest=audit.email_digest(email),
                     reason="no_account" if user is None else "deactivated")
        return None
    audit.record("login_sso", actor=user, obj=user)
    return user


def record_sso_refusal(reason: str, email: str | None = None) -> None:
    """Audit a single sign-on the provider completed but whose token we refused (an email it
    had not verified, an account outside the allowed domains)."""
    audit.record("sso_login_refused", reason=reason,
                 **({"email_digest": audit.email_digest(email)} if email else {}))


def end_sessions(user: User, reason: str) -> None:
    """Invalidate every session cookie the user holds (logout, password change)."""
    user.session_version += 1
    audit.record(reason, actor=user, obj=user)
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("Your current password is not correct.")
    if new == current:
        raise WeakPasswordError("The new password must differ from the current one.")
    check_password_strength(new, password_context(user))
    user.set_password(new)
    end_sessions(user, "password_changed")


def create_user(email: str, display_name: str, password: str) -> User:
    if user_by_email(email) is not None:
        raise AccountError(f"An account with the email {email} already exists.")
    check_password_strength(password, [email, display_name])
    user = User(email=email.strip().lower(), display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", obj=user, email=user.email)
    return user


def grant_role(user: User, role: Role, district: District, school: School | None = None,
               actor: User | None = None) -> Membership:
    """Give `user` a role in a district, at a school where the role is school-scoped."""
    if role.needs_school and school is None:
        raise AccountError(f"A {role.label.lower()} belongs to a school; choose the school.")
    if role == Role.DISTRICT_ADMIN and school is not None:
        raise AccountError("District administrators work district-wide, not for one school.")
    if school is not None and school.district_id != district.id:
        raise AccountError(f"{school.name} is not in {district.name}.")
    membership = Membership(user=user, role=role, district_id=district.id,
                            school_id=school.id if school else None)
    db.session.add(membership)
    db.session.flush()
    # The district granted, not every district the person already belongs to.
    audit.record("role_granted", actor=actor, obj=user, district=district, role=role.value,
                 district_id=district.id, school_id=school.id if school else None)
    return membership


def _check_zone(name: str) -> None:
    try:
        timezones.zone_named(name)
    except timezones.UnknownZoneError as error:
        raise AccountError(str(error)) from None


def create_district(name: str, time_zone: str) -> District:
    """A new district with no schools or people yet (the operator's first step). Audited."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("Give the district a name.")
    if len(name) > 200:
        raise AccountError("Keep the district's name under 200 characters.")
    if db.session.execute(db.select(District.id).where(District.name == name)).first():
        raise AccountError(f"There is already a district called “{name}”.")
    _check_zone(time_zone)
    district = District(name=name, time_zone=time_zone)
    db.session.add(district)
    db.session.flush()
    audit.record("district_created", obj=district, district=district, name=name,
                 time_zone=time_zone)
    return district


def set_district_time_zone(district: District, actor: User, name: str) -> bool:
    """Set the zone `district` reads times in; False when it already was. Audited."""
    _check_zone(name)
    if district.time_zone == name:
        return False
    audit.record("district_time_zone_changed", actor=actor, obj=district,
                 before=district.time_zone, after=name)
    district.time_zone = name
    db.session.flush()
    return True


def set_own_time_zone(user: User, name: str | None) -> bool:
    """Set the zone `user` reads times in, or None to follow their district's; False when
    nothing changed. Audited."""
    if name is not None:
        _check_zone(name)
    if user.time_zone == name:
        return False
    audit.record("own_time_zone_changed", actor=user, obj=user, before=user.time_zone,
                 after=name)
    user.time_zone = name
    db.session.flush()
    return True
