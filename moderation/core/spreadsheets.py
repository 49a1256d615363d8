"""The one rule for text written into a file a spreadsheet opens (CSV exports).

A cell whose text starts with = + - @, a tab or a carriage return can run as a formula when a
spreadsheet opens the file (CSV injection, OWASP), so such text is written with a leading
apostrophe: the spreadsheet shows it as text and the rest is unchanged. Numbers are never text
here: a score of -1 stays a number. XLSX writers write text as string cells instead, which a
spreadsheet never evaluates. Imports nothing of Flask, so the pure packages can use it.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_text(text: str) -> str:
    """Text as it goes into a CSV cell: with a leading ' where it could run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
