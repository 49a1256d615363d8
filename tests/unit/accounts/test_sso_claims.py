"""The rule that decides which email a validated ID token vouches for (pure, no app)."""

import pytest

from moderation.accounts.sso_claims import ClaimsRefused, EmailRule, verified_email

DEFAULT = EmailRule()
WORKSPACE = EmailRule(allowed_domains=("riverbend.example",))
TRUSTING = EmailRule(trust_email=True)


@pytest.mark.parametrize(("claims", "rule", "email"), [
    ({"email": "Amara@Riverbend.example", "email_verified": True}, DEFAULT,
     "amara@riverbend.example"),
    ({"email": " amara@riverbend.example ", "email_verified": "true"}, DEFAULT,
     "amara@riverbend.example"),
    # Entra: no email_verified, but the tenant verified the email's domain.
    ({"email": "amara@riverbend.example", "xms_edov": True}, DEFAULT, "amara@riverbend.example"),
    ({"email": "amara@riverbend.example"}, TRUSTING, "amara@riverbend.example"),
    ({"email": "amara@riverbend.example", "email_verified": True, "hd": "Riverbend.example"},
     WORKSPACE, "amara@riverbend.example"),
])
def test_a_verified_email_is_the_lower_cased_address(claims, rule, email):
    assert verified_email(claims, rule) == email


@pytest.mark.parametrize(("claims", "rule", "reason"), [
    ({}, DEFAULT, "no_email"),
    ({"email": "", "email_verified": True}, DEFAULT, "no_email"),
    ({"email": "not-an-address", "email_verified": True}, DEFAULT, "no_email"),
    ({"email": ["a@b.example"], "email_verified": True}, DEFAULT, "no_email"),
    ({"email": "amara@riverbend.example", "email_verified": False}, DEFAULT, "unverified"),
    ({"email": "amara@riverbend.example", "email_verified": "false"}, DEFAULT, "unverified"),
    ({"email": "amara@riverbend.example", "email_verified": 1}, DEFAULT, "unverified"),
    ({"email": "amara@riverbend.example"}, DEFAULT, "unverified"),
    ({"email": "amara@riverbend.example", "xms_edov": False}, DEFAULT, "unverified"),
    # Trusting the provider's email never overrides its own "not verified".
    ({"email": "amara@riverbend.example", "email_verified": False}, TRUSTING, "unverified"),
    ({"email": "amara@riverbend.example", "email_verified": False, "xms_edov": True}, DEFAULT,
     "unverified"),
    # Google: a consumer account (no hd) or another Workspace, whatever its address.
    ({"email": "amara@riverbend.example", "email_verified": True}, WORKSPACE, "domain"),
    ({"email": "amara@riverbend.example", "email_verified": True, "hd": "elsewhere.example"},
     WORKSPACE, "domain"),
    ({"email": "amara@riverbend.example", "email_verified": True, "hd": ["riverbend.example"]},
     WORKSPACE, "domain"),
])
def test_an_email_that_is_not_proven_is_refused_with_its_reason(claims, rule, reason):
    with pytest.raises(ClaimsRefused) as refused:
        verified_email(claims, rule)
    assert refused.value.reason == reason
    assert str(refused.value)


def test_the_rule_loads_without_flask():
    import subprocess
    import sys

    code = ("import sys, moderation.accounts.sso_claims; "
            "assert 'flask' not in sys.modules, 'sso_claims pulled in Flask'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
