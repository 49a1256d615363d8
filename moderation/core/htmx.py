"""One decision for every view: full page or the fragment htmx asked for.

A URL serves its full page for a normal, boosted or history-restore request and only its
fragment for a targeted htmx request (the Hypermedia Systems contact app pattern).
"""

from flask import render_template
from flask_htmx import make_response

from moderation.core.extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, fragment: str, *, status: int = 200, trigger=None, **context):
    """Render `fragment` for a targeted htmx request, else `page` (which includes the fragment).

    `trigger` becomes an HX-Trigger response event so other regions can refresh themselves.
    """
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status, trigger=trigger)
    response.vary.add("HX-Request")
    return response
