"""How a message leaves: SMTP when SMTP_URL is set, the console in development.

A transport is a callable taking an email.message.EmailMessage; it raises on failure, and the
sender schedules a retry.
"""

import smtplib
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from moderation.core.config import ConfigError

Transport = Callable[[EmailMessage], None]
SMTP_TIMEOUT_SECONDS = 15
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool   # smtps://: TLS from the first byte
    starttls: bool       # smtp://...?starttls=true: upgrade the plain connection first

    @classmethod
    def from_url(cls, url: str) -> "SmtpSettings":
        """Read smtp://user:pass@host:port (?starttls=true) or smtps://user:pass@host:port."""
        parts = urlsplit(url)
        # The URL itself is never repeated in a message: it may hold the password.
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("SMTP_URL must name a host, as smtp://user:password@host:587"
                              "?starttls=true or smtps://user:password@host:465.")
        implicit_tls = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls", [""])[0].lower() in _TRUE
        try:
            port = parts.port or (465 if implicit_tls else 587 if starttls else 25)
        except ValueError as error:
            raise ConfigError(f"SMTP_URL has an invalid port: {error}.") from None
        return cls(host=parts.hostname, port=port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   implicit_tls=implicit_tls, starttls=starttls)


class SmtpTransport:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def __call__(self, message: EmailMessage) -> None:
        s = self.settings
        if s.implicit_tls:
            connection = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS)
        with connection:
            if s.starttls:
                connection.starttls(context=ssl.create_default_context())
            if s.username:
                connection.login(s.username, s.password or "")
            connection.send_message(message)


def console_transport(message: EmailMessage) -> None:
    """Print the message instead of sending it: `make run` shows mail without a mail server."""
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    print(f"----- email (not sent: no SMTP_URL in development) -----\n"
          f"To: {message['To']}\nSubject: {message['Subject']}\n\n{text.rstrip()}\n"
          f"-----", file=sys.stdout, flush=True)


def transport_for(config) -> Transport | None:
    """The transport the configuration asks for; None when mail cannot leave (production
    without SMTP_URL), and messages then wait in the outbox."""
    if config.get("SMTP_URL"):
        return SmtpTransport(SmtpSettings.from_url(config["SMTP_URL"]))
    if config["APP_ENV"] in ("development", "testing"):
        return console_transport
    return None
