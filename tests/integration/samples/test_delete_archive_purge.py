"""Deleting removes the files and the student link; a scored sample is archived instead; a
district administrator can purge it with its scores. Each is audited."""

from moderation.accounts.models import District
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import SamplePage, SampleStatus, StudentLink, WorkSample


def _stored_keys(app, sample_id):
    with app.app_context():
        sample = db.session.get(WorkSample, sample_id)
        return [sample.storage_key] + [p.storage_key for p in sample.pages]


def _event(app, action):
    with app.app_context():
        return db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action)).scalar_one()


def _rate(app, sample, rater, kind=RatingKind.BLIND):
    with app.app_context():
        row = db.session.get(WorkSample, sample.id)
        for criterion in row.rubric_version.criteria:
            db.session.add(Rating(rater_id=rater.id, sample_id=row.id, criterion_id=criterion.id,
                                  rubric_version_id=row.rubric_version_id, score=2, kind=kind))
        db.session.commit()


def test_deleting_an_unscored_sample_removes_its_files_and_student_link(
        app, client, auth, create_school, create_teacher, create_sample):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher)
    keys = _stored_keys(app, sample.id)
    storage = app.extensions["storage"]
    assert all(storage.open(key) for key in keys) and len(keys) == 2  # the file and its page

    auth.login(teacher)
    response = client.post(f"/samples/{sample.code}/delete",
                           data={"csrf_token": auth.csrf_token(f"/samples/{sample.code}")},
                           follow_redirects=True)
    assert f"{sample.code} is deleted, with its files and the link to the student." in (
        response.text)
    assert all(key not in storage.objects for key in keys)
    with app.app_context():
        for model in (WorkSample, SamplePage, StudentLink):
            assert db.session.scalar(db.select(db.func.count()).select_from(model)) == 0
    event = _event(app, "sample_deleted")
    assert event.actor_id == teacher.id and event.details == {"code": sample.code, "files": 2}
    assert client.get(f"/samples/{sample.code}").status_code == 404


def test_a_scored_sample_is_archived_instead_and_leaves_the_lists(
        app, client, auth, create_school, create_teacher, create_sample):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher, ready=True)
    _rate(app, sample, create_teacher())
    keys = _stored_keys(app, sample.id)

    auth.login(teacher)
    assert sample.code in client.get("/samples/").text
    response = client.post(f"/samples/{sample.code}/delete",
                           data={"csrf_token": auth.csrf_token(f"/samples/{sample.code}")},
                           follow_redirects=True)
    assert "has scores, so it is archived instead of deleted" in response.text
    assert sample.code not in client.get("/samples/").text
    assert all(app.extensions["storage"].open(key) for key in keys)
    with app.app_context():
        row = db.session.get(WorkSample, sample.id)
        assert row.status == SampleStatus.ARCHIVED and row.archived_at is not None
        assert db.session.scalar(db.select(db.func.count(Rating.id))) == 2
    assert _event(app, "sample_archived").details == {"code": sample.code, "ratings": 2,
                                                      "anchors": 0}


def test_an_anchor_paper_is_archived_too(app, client, auth, create_school, create_teacher,
                                         create_sample, create_anchor):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher, ready=True)
    create_anchor(sample)
    auth.login(teacher)
    client.post(f"/samples/{sample.code}/delete",
                data={"csrf_token": auth.csrf_token(f"/samples/{sample.code}")})
    with app.app_context():
        assert db.session.get(WorkSample, sample.id).status == SampleStatus.ARCHIVED


def test_district_admin_purges_a_sample_with_its_ratings(
        app, client, auth, create_school, create_teacher, create_sample, create_district_admin):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher, ready=True)
    _rate(app, sample, create_teacher())
    _rate(app, sample, teacher, RatingKind.LOCAL)
    keys = _stored_keys(app, sample.id)
    admin = create_district_admin(district=District(id=school.district_id, name=""))

    auth.login(teacher)
    assert client.post(f"/samples/{sample.code}/purge", data={
        "csrf_token": auth.csrf_token("/samples/"), "purge-confirmed": "y"}).status_code == 403

    admin_client = app.test_client()
    admin_auth = auth.for_client(admin_client)
    admin_auth.login(admin)
    page = admin_client.get(f"/samples/{sample.code}").text
    assert "Purge this sample" in page
    token = admin_auth.csrf_token("/samples/")
    unconfirmed = admin_client.post(f"/samples/{sample.code}/purge", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    response = admin_client.post(f"/samples/{sample.code}/purge",
                                 data={"csrf_token": token, "purge-confirmed": "y"},
                                 follow_redirects=True)
    assert f"{sample.code} is purged with 4 score(s)" in response.text
    assert all(key not in app.extensions["storage"].objects for key in keys)
    with app.app_context():
        for model in (WorkSample, Rating, StudentLink, SamplePage):
            assert db.session.scalar(db.select(db.func.count()).select_from(model)) == 0
    event = _event(app, "sample_purged")
    assert event.actor_id == admin.id
    assert event.details == {"code": sample.code, "ratings": 4, "anchors": 0, "files": 2}


def test_archived_samples_are_listed_for_the_district_admin_to_purge(
        app, client, auth, create_school, create_teacher, create_sample, create_district_admin):
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher)
    _rate(app, sample, teacher, RatingKind.LOCAL)
    auth.login(teacher)
    client.post(f"/samples/{sample.code}/delete",
                data={"csrf_token": auth.csrf_token(f"/samples/{sample.code}")})
    admin_client = app.test_client()
    auth.for_client(admin_client).login(
        create_district_admin(district=District(id=school.district_id, name="")))
    listing = admin_client.get("/samples/").text
    assert "Archived samples" in listing and sample.code in listing


def test_a_failed_transaction_leaves_no_stored_files(app, create_school, create_teacher,
                                                    create_rubric,
                                                    sample_file):
    from moderation.accounts.models import School, User
    from moderation.samples import services
    from rubrics.models import RubricVersion

    school = create_school()
    teacher = create_teacher(school=school)
    version = create_rubric(school.district_id, criteria=2)
    storage = app.extensions["storage"]
    with app.app_context():
        filename, data = sample_file("pdf")
        services.upload_sample(
            uploader=db.session.get(User, teacher.id), school=db.session.get(School, school.id),
            rubric_version=db.session.get(RubricVersion, version.id), title="t", data=data,
            filename=filename, storage=storage, student_name="x")
        assert len(storage.objects) == 2
        db.session.rollback()
    assert storage.objects == {}
