"""The class teacher's local score, the redaction check, and promotion to anchor paper."""

from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, SampleStatus, WorkSample
from rubrics.models import RubricVersion

HTMX = {"HX-Request": "true"}


def _criteria(app, version_id):
    with app.app_context():
        return [c.id for c in db.session.get(RubricVersion, version_id).criteria]


def _events(app, action):
    with app.app_context():
        return list(db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_class_teacher_records_and_revises_the_local_score(app, client, auth, create_teacher,
                                                          create_school, create_sample):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher)
    first, second = _criteria(app, sample.rubric_version_id)
    auth.login(teacher)
    token = auth.csrf_token(f"/samples/{sample.code}")
    url = f"/samples/{sample.code}/local-score"
    headers = {**HTMX, "HX-Target": "local-score"}

    incomplete = client.post(url, data={"csrf_token": token, f"score_{first}": "3"},
                             headers=headers)
    assert incomplete.status_code == 422
    assert incomplete.text.lstrip().startswith('<section id="local-score"')
    assert "Choose a level for “Evidence”" in incomplete.text

    saved = client.post(url, data={"csrf_token": token, f"score_{first}": "3",
                                   f"score_{second}": "2"}, headers=headers)
    assert saved.status_code == 200
    assert "Your local score is saved." in saved.text
    assert saved.headers["HX-Trigger"] == "localScoreSaved"
    client.post(url, data={"csrf_token": token, f"score_{first}": "4",
                           f"score_{second}": "2"}, headers=headers)

    with app.app_context():
        ratings = list(db.session.execute(db.select(Rating).order_by(Rating.id)).scalars())
        assert [(r.criterion_id, r.score, r.is_current) for r in ratings] == [
            (first, 3, False), (second, 2, True), (first, 4, True)]
        assert all(r.kind == RatingKind.LOCAL and r.rater_id == teacher.id for r in ratings)
        assert ratings[2].revision_of_id == ratings[0].id and ratings[2].reason
        assert db.session.get(RubricVersion, sample.rubric_version_id).is_frozen
    assert len(_events(app, "local_scores_recorded")) == 2
    assert len(_events(app, "rubric_version_frozen")) == 1


def test_only_the_class_teacher_records_the_local_score(app, client, auth, create_teacher,
                                                       create_coach, create_school,
                                                       create_sample):
    school = create_school()
    sample = create_sample(school=school)
    for user in (create_teacher(school=school), create_coach(school=school)):
        other = app.test_client()
        auth.for_client(other).login(user)
        assert other.get(f"/samples/{sample.code}/local-score").status_code == 403
        page = other.get(f"/samples/{sample.code}").text
        assert "Class teacher's score" in page and "Save my score" not in page


def test_uploader_confirms_no_names_after_seeing_the_rendered_work(app, client, auth,
                                                                  create_teacher, create_school,
                                                                  create_sample):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher)
    auth.login(teacher)
    page = client.get(f"/samples/{sample.code}").text
    assert "Draft: check for names" in page
    assert f'src="/samples/{sample.code}/pages/1.png?v=' in page  # the check is made on the pages
    token = auth.csrf_token(f"/samples/{sample.code}")
    url = f"/samples/{sample.code}/confirm"
    headers = {**HTMX, "HX-Target": "sample-status"}

    unticked = client.post(url, data={"csrf_token": token}, headers=headers)
    assert unticked.status_code == 422
    assert "Tick the box once you have checked every page." in unticked.text

    confirmed = client.post(url, data={"csrf_token": token, "confirmed": "y"}, headers=headers)
    assert confirmed.status_code == 200
    assert confirmed.text.lstrip().startswith('<section id="sample-status"')
    assert "Ready for scoring" in confirmed.text
    with app.app_context():
        row = db.session.get(WorkSample, sample.id)
        assert row.status == SampleStatus.READY and row.redaction_confirmed_by_id == teacher.id
    assert [e.details["code"] for e in _events(app, "sample_redaction_confirmed")] == [
        sample.code]
    again = client.post(url, data={"csrf_token": token, "confirmed": "y"}, headers=headers)
    assert again.status_code == 409


def test_another_teacher_cannot_confirm(app, client, auth, create_teacher, create_school,
                                        create_sample):
    school = create_school()
    sample = create_sample(school=school)
    auth.login(create_teacher(school=school))
    token = auth.csrf_token(f"/samples/{sample.code}")
    response = client.post(f"/samples/{sample.code}/confirm",
                           data={"csrf_token": token, "confirmed": "y"})
    assert response.status_code == 403


def test_coach_promotes_a_ready_sample_with_rationale_for_every_criterion(
        app, client, auth, create_coach, create_school, create_sample):
    school = create_school()
    sample = create_sample(school=school, ready=True)
    first, second = _criteria(app, sample.rubric_version_id)
    auth.login(create_coach(school=school))
    url = f"/samples/{sample.code}/anchor"
    token = auth.csrf_token(url)
    form = {"csrf_token": token, f"score_{first}": "3", f"score_{second}": "2",
            f"rationale_{first}": "Clear claim, held throughout.", f"rationale_{second}": ""}

    missing = client.post(url, data=form)
    assert missing.status_code == 422
    assert "Write the rationale for “Evidence”." in missing.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Anchor.id))) == 0

    form[f"rationale_{second}"] = "Evidence is listed but not explained."
    promoted = client.post(url, data=form)
    assert promoted.status_code == 302
    anchor_page = client.get(promoted.headers["Location"]).text
    assert "Evidence is listed but not explained." in anchor_page
    assert sample.code in client.get("/samples/anchors").text
    with app.app_context():
        anchor = db.session.execute(db.select(Anchor)).scalar_one()
        assert {s.criterion_id: (s.score, s.rationale) for s in anchor.scores} == {
            first: (3, "Clear claim, held throughout."),
            second: (2, "Evidence is listed but not explained.")}
        assert db.session.get(RubricVersion, sample.rubric_version_id).is_frozen
    assert _events(app, "anchor_promoted")[0].details["code"] == sample.code
    assert client.post(url, data=form).status_code == 409  # already an anchor


def test_draft_cannot_become_an_anchor_and_teachers_cannot_promote(
        app, client, auth, create_coach, create_teacher, create_school, create_sample):
    school = create_school()
    draft = create_sample(school=school)
    auth.login(create_coach(school=school))
    url = f"/samples/{draft.code}/anchor"
    first, second = _criteria(app, draft.rubric_version_id)
    response = client.post(url, data={
        "csrf_token": auth.csrf_token(url), f"score_{first}": "3", f"score_{second}": "3",
        f"rationale_{first}": "a", f"rationale_{second}": "b"})
    assert response.status_code == 409
    assert "Only a sample whose uploader has confirmed" in response.text

    teacher_client = app.test_client()
    auth.for_client(teacher_client).login(create_teacher(school=school))
    assert teacher_client.get(url).status_code == 403


def test_sample_list_filters_by_status_as_a_fragment(app, client, auth, create_school,
                                                      create_teacher, create_sample):
    school = create_school()
    teacher = create_teacher(school=school)
    draft = create_sample(school=school, uploader=teacher, kind="text")
    ready = create_sample(school=school, uploader=teacher, kind="png", ready=True)
    auth.login(teacher)
    page = client.get("/samples/").text
    assert draft.code in page and ready.code in page and "Upload a work sample" in page
    fragment = client.get("/samples/?status=ready",
                          headers={**HTMX, "HX-Target": "sample-list"})
    assert fragment.text.lstrip().startswith('<section id="sample-list"')
    assert ready.code in fragment.text and draft.code not in fragment.text
    assert "Jane Student" not in fragment.text  # lists never carry the student link
