"""A request id for every request, so that a user's report can be matched to the server log.

Error pages show the id, the X-Request-ID response header carries it, and every unexpected
error is logged with it. Behind a trusted proxy (TRUSTED_PROXY_HOPS > 0) an id the proxy set in
X-Request-ID is kept, so one id follows the request through both logs; otherwise the header is
the client's to invent and is ignored.
"""

import re
import uuid

from flask import current_app, g, has_request_context, request

WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")  # nothing that could forge a log line


def request_id() -> str | None:
    """This request's id, made on first use (an error may come before any hook has run)."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = _from_proxy() or uuid.uuid4().hex
    return g.request_id


def _from_proxy() -> str | None:
    if not current_app.config.get("TRUSTED_PROXY_HOPS"):
        return None
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if WELL_FORMED.fullmatch(incoming) else None


def send_request_id(response):
    response.headers["X-Request-ID"] = request_id()
    return response


def init_app(app) -> None:
    app.after_request(send_request_id)
