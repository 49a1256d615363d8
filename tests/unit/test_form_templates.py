"""Every form leaves validation to the server, whose message sits beside the field.

WTForms renders `required` on fields with DataRequired; without `novalidate` the browser stops
the submit with its own tooltip (in the browser's language, gone on the next click) instead of
the form's message.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORM_TAG = re.compile(r"<form\b[^>]*>", re.S)


def form_tags() -> list[tuple[str, str]]:
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("moderation/**/templates/**/*.html")]
    return [(str(path.relative_to(ROOT)), tag) for path in sorted(set(templates))
            for tag in FORM_TAG.findall(path.read_text())]


def test_every_form_template_has_novalidate():
    tags = form_tags()
    assert len(tags) > 20, "the templates were not found"
    missing = [(path, tag) for path, tag in tags if not re.search(r"\snovalidate[\s>]", tag)]
    assert not missing, missing
