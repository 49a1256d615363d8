"""Refuse request values that no database column can hold, once, before any view sees them.

Ids: the integer columns are 32-bit, so an id in a URL beyond 2**31 - 1 names nothing and is
answered 404 by the URL map itself (PostgreSQL would raise on the comparison).

Text: PostgreSQL's text types cannot store the NUL character (U+0000), and no UTF-8 column can
store a lone surrogate (U+D800 to U+DFFF, which only JSON's \\u escapes can produce). Either
would reach the database as an error deep inside a view, so every request's decoded text is
checked here: the URL path, the query string, form fields and file names, and JSON values.
Uploaded file bodies are binary (and UTF-16 text files legitimately contain NUL bytes): they are
left to the samples' own cleaning.
"""

import re
from collections.abc import Iterable, Iterator

from flask import abort, request
from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**31 - 1
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = ("The request contained a character that cannot be stored (a NUL byte or a broken "
           "Unicode character). Please remove it and try again.")


def refuse_unstorable_text() -> None:
    if any(UNSTORABLE.search(text) for text in request_text()):
        abort(400, MESSAGE)


def request_text() -> Iterator[str]:
    """Every piece of decoded text the request carries, file bodies excepted."""
    yield request.path
    yield from _multidict_text(request.args)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        yield from _multidict_text(request.form)
        for name, upload in request.files.items(multi=True):
            yield name
            yield upload.filename or ""
    elif request.is_json:
        yield from _json_text(request.get_json(silent=True))


def _multidict_text(values) -> Iterable[str]:
    for key, value in values.items(multi=True):
        yield key
        yield value


def _json_text(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_text(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_text(item)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route, bounded to what an integer column holds."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=LARGEST_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Call before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_unstorable_text)
