"""Which email a validated ID token vouches for: the rule single sign-on matches accounts by.

Pure: the claims come from an ID token whose signature, issuer, audience, expiry and nonce
moderation.accounts.sso has already checked. This decides only whether its email may be
believed, so that someone cannot sign in as another person by naming that person's address.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


class ClaimsRefused(Exception):
    """The provider signed the person in, but its token does not prove an address we can use.
    `reason` is a stable code for the audit log; the message is for the person."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class EmailRule:
    # Google Workspace: the hosted domains (hd claim) accepted; empty accepts any.
    allowed_domains: Collection[str] = ()
    # Believe an email claim that comes without email_verified (single-tenant Entra only).
    trust_email: bool = False


def _is_true(value) -> bool:
    # Some providers send JSON booleans as strings.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def verified_email(claims: Mapping, rule: EmailRule) -> str:
    """The lower-cased email the claims vouch for, or ClaimsRefused saying why not.

    The address counts when `email_verified` is true; when the token has no `email_verified`
    at all, when Entra's `xms_edov` (the email's domain is verified by the tenant that owns
    the account) is true, or when the deployment trusts its provider's email claim. An
    explicit `email_verified: false` is refused whatever the deployment trusts.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email.strip():
        raise ClaimsRefused(
            "no_email", "Your sign-in provider did not tell us your email address, so we "
                        "cannot find your account. Ask your district administrator.")
    email = email.strip().lower()
    if rule.allowed_domains:
        hosted = claims.get("hd")
        if not isinstance(hosted, str) or hosted.strip().lower() not in rule.allowed_domains:
            raise ClaimsRefused(
                "domain", f"The account {email} is not one of your district's accounts. "
                          "Sign in with your school account.")
    if "email_verified" in claims:
        verified = _is_true(claims["email_verified"])
    else:
        verified = _is_true(claims.get("xms_edov")) or rule.trust_email
    if not verified:
        raise ClaimsRefused(
            "unverified", f"Your sign-in provider has not verified the address {email}, so "
                          "it cannot be used to sign in here. Ask your district "
                          "administrator.")
    return email
