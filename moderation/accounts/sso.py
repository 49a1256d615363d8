"""Single sign-on through one OpenID Connect provider (Google Workspace, Microsoft Entra...).

Authlib does the protocol: discovery from OIDC_ISSUER's /.well-known/openid-configuration,
the authorization code flow with PKCE (S256), state and nonce kept in the signed session
cookie, the code exchanged at the token endpoint with the client secret, and the ID token's
signature checked against the provider's JWKS. Here we also insist that the token names our
client as its audience and the configured issuer as its issuer (Authlib checks only the
issuer by default), and that the discovery document names that same issuer. Which email the
token vouches for is decided by sso_claims; which account that is, by services.

Everything that can go wrong raises SsoRefused with a message for the person and a 4xx
status: the login page shows it.
"""

from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import current_app, request
from joserfc.errors import JoseError

from moderation.accounts.sso_claims import ClaimsRefused, EmailRule, verified_email

log = logging.getLogger(__name__)
PROVIDER = "oidc"
EXTENSION = "moderation.sso"
SCOPES = "openid email profile"
# Seconds to wait for the provider (discovery, keys, token exchange) before telling the person.
PROVIDER_TIMEOUT = 10
START_AGAIN = "Go back to the login page and choose single sign-on again."


class SsoRefused(Exception):
    """A sign-in through the provider that does not log anyone in. `reason` is a stable code
    (for the audit log and tests); the message is for the person; `status` is the answer's."""

    def __init__(self, reason: str, message: str, status: int = 400,
                 email: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.status = status
        # The address the provider named, when it named one (for the audit log's hash).
        self.email = email


def is_configured(config=None) -> bool:
    config = current_app.config if config is None else config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID")
                and config.get("OIDC_CLIENT_SECRET"))


def label() -> str:
    return current_app.config["OIDC_LABEL"]


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _client():
    """The app's Authlib client, made on first use from its configuration. One per app: it
    caches the provider's metadata and keys, which apps configured otherwise (tests) must not
    share. Two first requests at once may both make one; either serves."""
    if not is_configured():
        raise SsoRefused("not_configured", "Single sign-on is not set up here. Log in with "
                                           "your email and password.", 404)
    oauth = current_app.extensions.get(EXTENSION)
    if oauth is None:
        config = current_app.config
        oauth = OAuth(current_app._get_current_object())
        oauth.register(
            PROVIDER,
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config["OIDC_CLIENT_SECRET"],
            server_metadata_url=discovery_url(config["OIDC_ISSUER"]),
            client_kwargs={"scope": SCOPES, "code_challenge_method": "S256",
                           "default_timeout": PROVIDER_TIMEOUT},
        )
        current_app.extensions[EXTENSION] = oauth
    return oauth.create_client(PROVIDER)


def _unreachable(error: Exception) -> SsoRefused:
    log.warning("single sign-on: the provider did not answer properly: %s", error)
    return SsoRefused("provider_unreachable",
                      "Your sign-in provider could not be reached just now. Try again in a "
                      "few minutes; if it keeps happening, tell your district administrator.")


def _checked_metadata(client) -> dict:
    """The provider's metadata, refused unless it names the configured issuer (OpenID
    Connect Discovery 1.0, section 4.3): otherwise tokens of another issuer could pass."""
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise _unreachable(error) from None
    expected = current_app.config["OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != expected:
        log.error("single sign-on: the discovery document names the issuer %r, not "
                  "OIDC_ISSUER %r", metadata.get("issuer"), expected)
        raise SsoRefused("issuer_mismatch",
                         "Single sign-on is not set up correctly here (the provider's address "
                         "does not match). Tell your district administrator.")
    return metadata


def authorize_redirect(redirect_uri: str):
    """The redirect to the provider's sign-in page; state, nonce and the PKCE verifier wait in
    the session for the callback."""
    client = _client()
    _checked_metadata(client)
    extra = {}
    domains = current_app.config["OIDC_ALLOWED_DOMAINS"]
    if len(domains) == 1:
        # Google shows only that Workspace domain's accounts (a hint: the hd claim decides).
        extra["hd"] = domains[0]
    try:
        return client.authorize_redirect(redirect_uri, **extra)
    except (requests.RequestException, ValueError, RuntimeError) as error:
        raise _unreachable(error) from None


def _provider_error(error: str) -> SsoRefused:
    if error == "access_denied":
        return SsoRefused("cancelled", "Signing in with your provider was cancelled, so you "
                                       "are not logged in.", 401)
    log.warning("single sign-on: the provider answered with the error %r", error)
    return SsoRefused("provider_error", "Your sign-in provider could not sign you in. "
                                        + START_AGAIN)


def email_from_callback() -> str:
    """The verified email of the person the provider sends back to the callback."""
    client = _client()
    error = request.args.get("error")
    if error:
        raise _provider_error(error)
    metadata = _checked_metadata(client)
    options = {"iss": {"essential": True, "value": metadata["issuer"]},
               "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]}}
    try:
        token = client.authorize_access_token(claims_options=options)
    except MismatchingStateError:
        raise SsoRefused("state_mismatch", "This sign-in had expired or was started in "
                                           "another browser tab or window. " + START_AGAIN
                         ) from None
    except AuthlibBaseError as error:
        raise _provider_error(error.error or "") from None
    except JoseError as error:
        log.warning("single sign-on: the ID token was refused: %s", error)
        raise SsoRefused("invalid_token", "Your sign-in provider's answer could not be "
                                          "checked. " + START_AGAIN) from None
    except (requests.RequestException, ValueError) as error:
        raise _unreachable(error) from None
    claims = token.get("userinfo")
    if not claims:
        raise SsoRefused("invalid_token", "Your sign-in provider's answer had no ID token. "
                                          + START_AGAIN)
    rule = EmailRule(allowed_domains=current_app.config["OIDC_ALLOWED_DOMAINS"],
                     trust_email=current_app.config["OIDC_TRUST_EMAIL"])
    try:
        return verified_email(claims, rule)
    except ClaimsRefused as refused:
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        raise SsoRefused(refused.reason, str(refused), 403, email=email) from None
