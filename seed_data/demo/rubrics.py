"""The demo district's rubrics: every JSON file in seed_data/rubrics/, imported once.

A step of `flask seed-demo` (SEED_STEPS in seed_data/demo/__init__.py). A rubric is found by
its natural key (district, title) and left alone if it exists, so running the seed again changes
nothing and never overwrites a rubric someone has since edited or versioned.
"""

from pathlib import Path

from moderation.accounts.models import District, User
from moderation.core.extensions import db
from rubrics import jsonformat, queries, services

SEED_DIR = Path(__file__).resolve().parents[1] / "rubrics"


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.json"))


def seed_demo_rubrics(spec: dict, district: District) -> None:
    """Import each seed rubric into `district` unless a rubric of that title is there."""
    author_email = next((c["email"] for c in spec.get("coaches", []) if not c.get("school")),
                        None)
    author = author_email and db.session.execute(
        db.select(User).where(User.email == author_email)).scalar_one_or_none()
    for path in seed_files():
        document = jsonformat.parse(path.read_bytes())
        if queries.rubric_by_title(district.id, document.title) is None:
            services.import_rubric(document, district.id, actor=author or None)
