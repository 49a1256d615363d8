"""The ratings domain's own rules: a submitted score changes only by a revision that keeps it."""

import pytest

from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.ratings import queries, services
from moderation.ratings.models import Rating, RatingKind
from rubrics.models import Criterion


@pytest.fixture
def local_rating(app, create_sample):
    sample = create_sample(ready=True)

    def record(submitted: bool = True) -> Rating:
        """A local score of the sample's first criterion (call inside an app context)."""
        return services.record(
            rater_id=sample.uploaded_by_id, sample_id=sample.id,
            criterion_id=_first_criterion(sample), rubric_version_id=sample.rubric_version_id,
            score=2, kind=RatingKind.LOCAL,
            submitted_at=utcnow() if submitted else None)

    return sample, record


def _first_criterion(sample) -> int:
    return db.session.scalar(db.select(Criterion.id).where(
        Criterion.version_id == sample.rubric_version_id).order_by(Criterion.position))


def test_a_revision_keeps_the_old_score_and_points_at_it(app, local_rating):
    sample, record = local_rating
    with app.app_context():
        first = record()
        db.session.flush()
        second = services.revise(first, 4, reason="Looked again", submitted_at=utcnow())
        db.session.commit()
        current = queries.current_by_criterion(Rating.sample_id == sample.id)
        assert [r.score for r in current.values()] == [4]
        assert second.revision_of_id == first.id and second.reason == "Looked again"
        assert not first.is_current
        assert queries.count_for_sample(sample.id) == 2


def test_only_drafts_change_in_place_and_only_current_ratings_are_revised(app, local_rating):
    _, record = local_rating
    with app.app_context():
        draft = record(submitted=False)
        services.amend_draft(draft, 3, "Nearly", submitted_at=utcnow())
        assert (draft.score, draft.comment, draft.is_draft) == (3, "Nearly", False)
        with pytest.raises(services.RatingError):
            services.amend_draft(draft, 1)
        db.session.flush()
        services.revise(draft, 1, reason="Second look", submitted_at=utcnow())
        with pytest.raises(services.RatingError):
            services.revise(draft, 2, reason="Stale tab", submitted_at=utcnow())
        db.session.rollback()
