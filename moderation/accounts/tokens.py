"""One-time links that set a person's password: invitations (a district administrator sends
one to someone they added) and password resets (the person asks for one on the login page).

A link carries a random token (`secrets.token_urlsafe(32)`, 256 bits); the database keeps only
its SHA-256 (`AccountToken.token_hash`) and finds a link by hashing what was typed. Opening a
link changes nothing (mail scanners open links too); setting the password claims it with a
compare-and-set UPDATE, so of two submits at once one wins. Services flush, the view commits.
"""

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from markupsafe import Markup
from sqlalchemy import update

from moderation.accounts import people, services
from moderation.accounts.models import AccountToken, District, TokenPurpose, User
from moderation.accounts.queries import time_zone_name_of, user_by_email
from moderation.accounts.services import (
    AccountError,
    check_password_strength,
    end_sessions,
    password_context,
)
from moderation.core import audit, timezones
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.mail.services import queue_message

# Far longer than token_urlsafe(32)'s 43 characters; anything longer is no token of ours and is
# not worth hashing.
MAX_TOKEN_LENGTH = 100
PLATFORM = "the moderation platform"


class LinkState(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REPLACED = "replaced"   # a newer link was sent, or the password was set with another
    NOT_VALID = "not_valid"  # no such link, or its account cannot set a password now


class LinkError(AccountError):
    """The link cannot set a password; `state` says why, for the page that explains it."""

    def __init__(self, state: LinkState):
        super().__init__(f"This link cannot be used ({state.value}).")
        self.state = state


class LinksUnavailable(AccountError):
    """The server does not know its public address, so no link can be emailed."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back UTC times without their zone; PostgreSQL with it.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def link_for(token: str) -> str:
    """The absolute address of the set-password page for `token`, from PUBLIC_URL, never from
    the request's Host header (which the sender of a forged request chooses)."""
    base = current_app.config["PUBLIC_URL"]
    if not base:
        raise LinksUnavailable(
            "This server cannot email links yet: its address (PUBLIC_URL) is not configured. "
            "Ask whoever runs the platform to set it.")
    # The URL map itself rather than url_for, which needs a request: the operator's commands
    # invite from no request at all.
    return base + current_app.url_map.bind("").build("accounts.set_password", {"token": token})


def check_links_available() -> None:
    if not current_app.config["PUBLIC_URL"]:
        link_for("")


# --- issuing and reading links -----------------------------------------------------------------

def _revoke_unused(user_id: int, purpose: TokenPurpose, now: datetime) -> int:
    """Stop the person's open links of `purpose` from working; how many there were."""
    return db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def issue(user: User, purpose: TokenPurpose, lifetime: timedelta, *, issued_by: User | None = None,
          district: District | None = None, now: datetime | None = None
          ) -> tuple[AccountToken, str, int]:
    """A new link for `user`, replacing their open ones of the same purpose: the row, the token
    (for the email only; it is stored nowhere) and how many links it replaced."""
    now = now or utcnow()
    replaced = _revoke_unused(user.id, purpose, now)
    token = secrets.token_urlsafe(32)
    row = AccountToken(user_id=user.id, purpose=purpose, token_hash=token_digest(token),
                       issued_by_id=issued_by.id if issued_by else None,
                       district_id=district.id if district else None,
                       created_at=now, expires_at=now + lifetime)
    db.session.add(row)
    db.session.flush()
    return row, token, replaced


def find(token: str) -> AccountToken | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.execute(
        db.select(AccountToken).where(AccountToken.token_hash == token_digest(token))
    ).scalar_one_or_none()


def state_of(row: AccountToken | None, now: datetime | None = None) -> LinkState:
    now = now or utcnow()
    if row is None:
        return LinkState.NOT_VALID
    if row.used_at is not None:
        return LinkState.USED
    if row.revoked_at is not None:
        return LinkState.REPLACED
    if _aware(row.expires_at) <= now:
        return LinkState.EXPIRED
    if not row.user.is_active or not services.may_use_password(row.user):
        return LinkState.NOT_VALID
    return LinkState.VALID


def open_link(token: str, now: datetime | None = None) -> AccountToken:
    """The link's row while it can set a password; else LinkError saying why."""
    row = find(token)
    state = state_of(row, now)
    if state != LinkState.VALID:
        raise LinkError(state)
    return row


def set_password(token: str, password: str, now: datetime | None = None) -> User:
    """Set the password of the link's person and use the link up; ends their other sessions.

    The password is checked before the link is claimed, so a refused one leaves the link
    working. The claim is a compare-and-set: of two submits at once, the second finds the link
    used (PostgreSQL makes it wait for the first's commit, SQLite for its write lock) and
    changes nothing."""
    now = now or utcnow()
    row = open_link(token, now)
    user = row.user
    check_password_strength(password, password_context(user))
    claimed = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None),
               AccountToken.revoked_at.is_(None), AccountToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise LinkError(LinkState.USED)
    _revoke_unused(user.id, row.purpose, now)
    user.set_password(password)
    end_sessions(user, "invitation_accepted" if row.purpose == TokenPurpose.INVITATION
                 else "password_reset")
    return user


# --- invitations -------------------------------------------------------------------------------

def latest_invitation(user: User) -> AccountToken | None:
    return db.session.execute(
        db.select(AccountToken)
        .where(AccountToken.user_id == user.id,
               AccountToken.purpose == TokenPurpose.INVITATION)
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc()).limit(1)
    ).scalar_one_or_none()


def invited_among(user_ids: list[int]) -> set[int]:
    """Which of these people were ever sent an invitation: one statement for a page of them."""
    if not user_ids:
        return set()
    return set(db.session.execute(
        db.select(AccountToken.user_id).distinct()
        .where(AccountToken.user_id.in_(user_ids),
               AccountToken.purpose == TokenPurpose.INVITATION)).scalars())


def invitable(person: User) -> str | None:
    """Why `person` cannot be invited, or None when they can."""
    if not person.is_active:
        return (f"{person.display_name} is deactivated. Reactivate the account before "
                "inviting them.")
    if people.has_placeholder_email(person):
        return (f"{person.display_name} came from an imported file without an email address. "
                "Enter their address first.")
    if not services.may_use_password(person):
        return f"{person.display_name} logs in with single sign-on and needs no invitation."
    if person.password_hash is not None:
        return (f"{person.display_name} has already set a password. If they have forgotten "
                "it, they can reset it with “Forgot your password?” on the login page.")
    return None


# Who the invitation says invited the person when no one in the app did: the first
# administrator of a district, created from the command line.
OPERATOR_NAME = "the platform's operator"


def invite(person: User, district: District, actor: User | None, now: datetime | None = None
           ) -> AccountToken:
    """Email `person` a link to set their password, replacing any earlier invitation's.
    `actor` None: the operator, from the command line."""
    reason = invitable(person)
    if reason:
        raise AccountError(reason)
    link_days = current_app.config["INVITATION_DAYS"]
    row, token, replaced = issue(person, TokenPurpose.INVITATION, timedelta(days=link_days),
                                 issued_by=actor, district=district, now=now)
    link = link_for(token)
    until = timezones.local_time(_aware(row.expires_at), timezones.zone_named(district.time_zone))
    inviter = actor.display_name if actor is not None else OPERATOR_NAME
    queue_message(person.email, f"{_capitalised(inviter)} invited you to {PLATFORM}",
                  *_invitation_bodies(person, district, inviter, link, until, link_days),
                  holds_secret=True)
    audit.record("invitation_sent", actor=actor, obj=person, district=district,
                 days=link_days, replaced=replaced)
    return row


def days_text(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _invitation_bodies(person, district, inviter, link, until, link_days) -> tuple[str, str]:
    text = (f"Hello {person.display_name},\n\n"
            f"{_capitalised(inviter)} has invited you to {district.name} on {PLATFORM}, where "
            "teachers score and moderate student work together.\n\n"
            f"Choose your password here:\n{link}\n\n"
            f"The link works once, for {days_text(link_days)}: until {until}. If it has expired, "
            f"ask {inviter} to send a new one.\n\n"
            f"You will log in with this email address: {person.email}\n")
    html = Markup(
        "<p>Hello {name},</p>"
        "<p>{actor_at_start} has invited you to <strong>{district}</strong> on {platform}, where "
        "teachers score and moderate student work together.</p>"
        '<p><a href="{link}">Choose your password</a></p>'
        "<p>The link works once, for {days}: until {until}. If it has expired, ask {actor} to "
        "send a new one.</p>"
        "<p>You will log in with this email address: {email}</p>"
        "<p>If the button does not work, copy this address into your browser:<br>{link}</p>"
    ).format(name=person.display_name, actor=inviter, actor_at_start=_capitalised(inviter),
             district=district.name,
             platform=PLATFORM, link=link, days=days_text(link_days), until=until,
             email=person.email)
    return text, str(html)


# --- password resets ---------------------------------------------------------------------------

def request_reset(email: str, now: datetime | None = None) -> bool:
    """Email a reset link if an active account that may use a password has this address.

    Whether it did is for the tests and the audit log only: the page says the same either way,
    and both ways cost about the same (a read and one or two inserts)."""
    check_links_available()
    user = user_by_email(email)
    if user is None or not user.is_active or not services.may_use_password(user):
        audit.record("password_reset_refused", actor=user,
                     email_digest=audit.email_digest(email))
        return False
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    row, token, _ = issue(user, TokenPurpose.PASSWORD_RESET, timedelta(minutes=minutes), now=now)
    until = timezones.local_time(_aware(row.expires_at),
                                 timezones.zone_named(time_zone_name_of(user)))
    queue_message(user.email, f"Reset your password for {PLATFORM}",
                  *_reset_bodies(user, token_link=link_for(token), until=until,
                                 lifetime=reset_lifetime_text(minutes)), holds_secret=True)
    audit.record("password_reset_requested", actor=user, obj=user)
    return True


def reset_lifetime_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def _reset_bodies(user: User, token_link: str, until: str, lifetime: str) -> tuple[str, str]:
    text = (f"Hello {user.display_name},\n\n"
            f"Someone, hopefully you, asked to reset the password of the account {user.email} "
            f"on {PLATFORM}.\n\n"
            f"Choose a new password here:\n{token_link}\n\n"
            f"The link works once, for {lifetime}: until {until}.\n\n"
            "If you did not ask, ignore this email: your password stays as it is.\n")
    html = Markup(
        "<p>Hello {name},</p>"
        "<p>Someone, hopefully you, asked to reset the password of the account {email} on "
        "{platform}.</p>"
        '<p><a href="{link}">Choose a new password</a></p>'
        "<p>The link works once, for {lifetime}: until {until}.</p>"
        "<p>If you did not ask, ignore this email: your password stays as it is.</p>"
        "<p>If the button does not work, copy this address into your browser:<br>{link}</p>"
    ).format(name=user.display_name, email=user.email, platform=PLATFORM, link=token_link,
             lifetime=lifetime, until=until)
    return text, str(html)
