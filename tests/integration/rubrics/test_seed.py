"""The demo seed brings the district's rubrics, once: a second run changes nothing."""

import pytest

from moderation.core.extensions import db
from rubrics import queries
from rubrics.models import Criterion, Level, Rubric, RubricVersion
from seed_data.demo import seed_demo

pytestmark = pytest.mark.slow  # the demo seed hashes 57 passwords


def rubric_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Rubric, RubricVersion, Criterion, Level)}


def test_seeding_twice_leaves_one_copy_of_each_rubric(app):
    with app.app_context():
        district = seed_demo()
        db.session.commit()
        first = rubric_counts()
        seed_demo()
        db.session.commit()

        assert rubric_counts() == first
        assert first == {"Rubric": 3, "RubricVersion": 3, "Criterion": 14, "Level": 56}
        titles = [r.title for r in queries.rubrics_for_district(district.id)]
        assert titles == ["Argumentative Writing", "Opinion Writing", "Science Investigation"]
        # Ready to score against, and attributed to the district-wide coach.
        versions = queries.versions_for_district(district.id, ready_only=True)
        assert [v.label for v in versions] == [
            "Argumentative Writing (version 1)", "Opinion Writing (version 1)",
            "Science Investigation (version 1)"]
        assert {v.rubric.created_by.email for v in versions} == {"marcus.reid@riverbend.example"}


def test_seeding_again_does_not_touch_a_rubric_someone_changed(app):
    with app.app_context():
        district = seed_demo()
        rubric = queries.rubric_by_title(district.id, "Science Investigation")
        rubric.versions[0].criteria[0].name = "Question"
        db.session.commit()
        seed_demo()
        db.session.commit()

        assert rubric.versions[0].criteria[0].name == "Question"
        assert rubric_counts()["Rubric"] == 3
