"""Creating the next version deep-copies the frozen one; the old version and everything pointing
at it stay exactly as they were."""

import pytest

from moderation.core import audit
from moderation.core.extensions import db
from rubrics import jsonformat, services
from rubrics.models import Criterion, Level, RubricVersion
from tests.fixtures.rubrics import load_version


def without_number(document: dict) -> dict:
    return {k: v for k, v in document.items() if k not in ("version", "change_note")}


def test_next_version_is_a_deep_copy_and_the_old_one_is_untouched(
        app, create_district, create_coach, create_rubric, auth, client, rubric_snapshot):
    district = create_district()
    coach = create_coach(district=district)
    old = create_rubric(district=district, criteria=4, frozen=True)
    before = rubric_snapshot(old)
    auth.login(coach)

    response = client.post(f"/rubrics/versions/{old.id}/next", data={
        "next-change_note": "Clarify level 2 of Evidence", "csrf_token": auth.csrf_token()},
        follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == f"/rubrics/{old.rubric_id}/versions/2"
    assert "Version 2 is a copy of version 1" in response.text
    assert "Add criterion" in response.text  # the new version is editable
    with app.app_context():
        new = db.session.execute(db.select(RubricVersion).where(
            RubricVersion.rubric_id == old.rubric_id, RubricVersion.number == 2)).scalar_one()
        new_doc = jsonformat.to_document(new)
        assert new.frozen_at is None
        assert new.change_note == "Clarify level 2 of Evidence"
        assert new.created_by_id == coach.id
        new_criterion_ids = {c.id for c in new.criteria}
        new_level_ids = {lv.id for c in new.criteria for lv in c.levels}
    # Same content, new rows: nothing is shared between the versions.
    assert without_number(new_doc) == without_number(before["document"])
    old_criterion_ids = {c_id for c_id, _, _ in before["ids"]}
    old_level_ids = {lv_id for _, _, levels in before["ids"] for lv_id, _ in levels}
    assert not new_criterion_ids & old_criterion_ids
    assert not new_level_ids & old_level_ids
    assert rubric_snapshot(old) == before


def test_editing_the_new_version_leaves_the_old_one_and_its_rows_alone(
        app, create_district, create_coach, create_rubric, rubric_snapshot):
    old = create_rubric(district=create_district(), frozen=True)
    before = rubric_snapshot(old)
    with app.app_context():
        new = services.create_next_version(db.session.get(RubricVersion, old.id))
        first = new.criteria[0]
        services.update_criterion(first, name="Precise claim")
        services.update_level(first.levels[1], score=2, label="Approaching",
                              descriptor="Rewritten.", is_proficient=False)
        services.delete_criterion(new.criteria[-1])
        services.add_criterion(new, name="Audience")
        db.session.commit()
        # What scores point at (the old criterion and level ids) still means what it meant.
        old_criterion = db.session.get(Criterion, old.criteria[0].id)
        old_level = db.session.get(Level, old.criteria[0].levels[1].id)
        assert old_criterion.version_id == old.id and old_criterion.name == "Claim"
        assert old_level.label == "Developing"
    assert rubric_snapshot(old) == before


def test_a_second_draft_is_not_created(create_district, create_coach, create_rubric, auth,
                                       client):
    district = create_district()
    old = create_rubric(district=district, frozen=True)
    auth.login(create_coach(district=district))
    token = auth.csrf_token()
    client.post(f"/rubrics/versions/{old.id}/next", data={"csrf_token": token})

    again = client.post(f"/rubrics/versions/{old.id}/next", data={"csrf_token": token},
                        follow_redirects=True)

    assert again.request.path == f"/rubrics/{old.rubric_id}/versions/2"
    assert "Version 2 is already a draft of this rubric: make your changes there." in again.text
    assert "Version 3" not in again.text


def test_a_draft_is_edited_directly_not_copied(app, create_district, create_rubric):
    draft = create_rubric(district=create_district())
    with app.app_context(), pytest.raises(services.RubricError,
                       match="Version 1 has not been used yet, so you can edit it directly."):
        services.create_next_version(db.session.get(RubricVersion, draft.id))


def test_freezing_is_idempotent_and_audited(app, create_district, create_rubric):
    version = create_rubric(district=create_district())
    with app.app_context():
        loaded = db.session.get(RubricVersion, version.id)
        services.freeze_version(loaded, reason="first score")
        first = loaded.frozen_at
        services.freeze_version(loaded, reason="again")
        db.session.commit()
        # (SQLite hands datetimes back without their zone; the instant is what matters.)
        assert load_version(version.id).frozen_at.replace(tzinfo=None) == first.replace(
            tzinfo=None)
        every_event = db.session.execute(audit.events_query(audit.Scope.everything())).scalars()
        frozen_events = [e for e in every_event if e.action == "rubric_version_frozen"]
        assert [e.details["reason"] for e in frozen_events] == ["first score"]
