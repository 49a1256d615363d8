"""Building a rubric in place with htmx: fragments, inline messages, reordering, and who may
see or change what."""

import re

import pytest

from moderation.core.extensions import db
from rubrics.models import Criterion, Level, Rubric, RubricVersion


@pytest.fixture
def coach_and_draft(create_district, create_coach, create_rubric, auth):
    district = create_district()
    coach = create_coach(district=district)
    version = create_rubric(district=district, criteria=2)
    auth.login(coach)
    return district, version


def criterion_names(app, version_id: int) -> list[str]:
    with app.app_context():
        return [c.name for c in db.session.get(RubricVersion, version_id).criteria]


def test_a_coach_creates_a_rubric_and_lands_in_the_builder(create_district, create_coach,
                                                           auth, hx, client, app):
    district = create_district()
    auth.login(create_coach(district=district))

    response = hx.post("/rubrics/new", {
        "new-district_id": str(district.id), "new-title": "Persuasive Speech",
        "new-subject": "English Language Arts", "new-grade_band": "7-8"}, target="new-rubric")

    assert response.status_code == 200
    page = client.get(response.headers["HX-Redirect"])
    assert "<h1>Persuasive Speech</h1>" in page.text
    assert "“Persuasive Speech” is created. Add its criteria below." in page.text
    assert "Add at least one criterion." in page.text  # the readiness checklist
    with app.app_context():
        assert db.session.scalar(db.select(Rubric.title).where(
            Rubric.district_id == district.id)) == "Persuasive Speech"


def test_a_new_rubric_without_a_title_says_so_inline(create_district, create_coach, auth, hx):
    district = create_district()
    auth.login(create_coach(district=district))

    response = hx.post("/rubrics/new", {"new-district_id": str(district.id), "new-title": " ",
                                        "new-subject": "Math", "new-grade_band": "3"},
                       target="new-rubric")

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="new-rubric"')
    assert "Give the rubric a title." in response.text


def test_adding_a_criterion_returns_a_fresh_form_and_refreshes_the_list(coach_and_draft, hx,
                                                                         app):
    _, version = coach_and_draft

    response = hx.post(f"/rubrics/versions/{version.id}/criteria", {
        "new-criterion-name": "Use of evidence", "new-criterion-standard_codes": "W.9-10.1b; "
        "W.9-10.8"}, target="add-criterion")

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="add-criterion"')
    assert 'value="Use of evidence"' not in response.text  # emptied for the next criterion
    assert response.headers["HX-Trigger"] == "criteriaChanged, rubricChanged"
    listing = hx.get(f"/rubrics/versions/{version.id}/criteria", target="criteria")
    assert "Use of evidence" in listing.text
    assert "W.9-10.8" in listing.text
    assert criterion_names(app, version.id)[-1] == "Use of evidence"


def test_a_criterion_without_a_name_gets_an_inline_message(coach_and_draft, hx, app):
    _, version = coach_and_draft

    response = hx.post(f"/rubrics/versions/{version.id}/criteria",
                       {"new-criterion-name": "", "new-criterion-description": "Kept"},
                       target="add-criterion")

    assert response.status_code == 422
    assert 'id="add-criterion"' in response.text
    assert "Give the criterion a name." in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Kept</textarea>" in response.text  # what was typed is not lost
    assert len(criterion_names(app, version.id)) == 2


def test_a_duplicate_criterion_name_is_refused_inline(coach_and_draft, hx):
    _, version = coach_and_draft

    response = hx.post(f"/rubrics/versions/{version.id}/criteria",
                       {"new-criterion-name": "claim"}, target="add-criterion")

    assert response.status_code == 422
    assert "This rubric already has a criterion called “claim”." in response.text


def test_moving_a_criterion_reorders_the_list(coach_and_draft, hx, app):
    _, version = coach_and_draft
    second = version.criteria[1]

    response = hx.post(f"/rubrics/criteria/{second.id}/move", {"direction": "up"},
                       target="criteria")

    assert response.status_code == 200
    names = re.findall(r'<span class="position">(\d+)\.</span> (\w+)</h3>', response.text)
    assert names == [("1", "Evidence"), ("2", "Claim")]
    assert criterion_names(app, version.id) == ["Evidence", "Claim"]
    # The first one cannot move further up: its button is disabled.
    assert 'aria-label="Move “Evidence” up" disabled' in response.text


def test_editing_a_criterion_in_place(coach_and_draft, hx, app):
    _, version = coach_and_draft
    criterion = version.criteria[0]
    key = f"criterion-{criterion.id}"

    form = hx.get(f"/rubrics/criteria/{criterion.id}/edit", target=key)
    saved = hx.post(f"/rubrics/criteria/{criterion.id}", {
        f"{key}-name": "Claim and focus", f"{key}-student_friendly": "I say what I think."},
        target=key)

    assert form.status_code == 200 and 'value="Claim"' in form.text
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith(f'<article id="{key}"')
    assert "Claim and focus" in saved.text and "I say what I think." in saved.text
    assert criterion_names(app, version.id)[0] == "Claim and focus"


def test_adding_levels_keeps_the_form_open_with_the_next_score(create_district, create_coach,
                                                                create_rubric, auth, hx, app):
    district = create_district()
    version = create_rubric(district=district, criteria=1, levels=0)
    auth.login(create_coach(district=district))
    criterion = version.criteria[0]
    key = f"new-level-{criterion.id}"

    response = hx.post(f"/rubrics/criteria/{criterion.id}/levels", {
        f"{key}-score": "1", f"{key}-label": "Beginning",
        f"{key}-descriptor": "States a topic but no claim."}, target=f"criterion-{criterion.id}")

    assert response.status_code == 200
    assert "States a topic but no claim." in response.text
    assert response.headers["HX-Trigger"] == "rubricChanged"
    assert '<details class="add-level" open>' in response.text
    assert re.search(rf'name="{key}-score"[^>]*value="2"', response.text)
    assert 'value="Developing"' in response.text


def test_a_level_needs_a_descriptor_and_a_free_score(coach_and_draft, hx):
    _, version = coach_and_draft
    criterion = version.criteria[0]
    key = f"new-level-{criterion.id}"
    target = f"criterion-{criterion.id}"

    missing = hx.post(f"/rubrics/criteria/{criterion.id}/levels", {
        f"{key}-score": "5", f"{key}-label": "Exemplary"}, target=target)
    taken = hx.post(f"/rubrics/criteria/{criterion.id}/levels", {
        f"{key}-score": "3", f"{key}-label": "Also three", f"{key}-descriptor": "Text."},
        target=target)

    assert missing.status_code == 422
    assert "Describe what work at this level shows." in missing.text
    assert taken.status_code == 422
    assert "Score 3 is already “Proficient” for this criterion; each score appears once." \
        in taken.text


def test_marking_a_level_proficient_moves_the_mark(coach_and_draft, hx, app):
    _, version = coach_and_draft
    criterion = version.criteria[0]
    level_4 = criterion.levels[3]

    response = hx.post(f"/rubrics/levels/{level_4.id}/proficient",
                       target=f"criterion-{criterion.id}")

    assert response.status_code == 200
    assert response.text.count("Proficiency level</span>") == 1
    with app.app_context():
        marks = db.session.execute(db.select(Level.score).where(
            Level.criterion_id == criterion.id, Level.is_proficient)).scalars().all()
        assert marks == [4]


def test_moving_a_level_swaps_the_wording_between_scores(coach_and_draft, hx, app):
    _, version = coach_and_draft
    criterion = version.criteria[0]
    lowest = criterion.levels[0]

    response = hx.post(f"/rubrics/levels/{lowest.id}/move", {"direction": "down"},
                       target=f"criterion-{criterion.id}")

    assert response.status_code == 200
    with app.app_context():
        levels = db.session.get(Criterion, criterion.id).levels
        assert [(lv.score, lv.label) for lv in levels][:2] == [(1, "Developing"),
                                                                (2, "Beginning")]


def test_removing_the_last_criterion_shows_the_empty_state_and_checklist(
        create_district, create_coach, create_rubric, auth, hx):
    district = create_district()
    version = create_rubric(district=district, criteria=1)
    auth.login(create_coach(district=district))

    response = hx.post(f"/rubrics/criteria/{version.criteria[0].id}/delete", target="criteria")
    status = hx.get(f"/rubrics/versions/{version.id}/status", target="version-status")

    assert response.status_code == 200
    assert "No criteria yet. Add the first one below." in response.text
    assert "Add at least one criterion." in status.text


def test_without_javascript_a_write_redirects_back_to_the_page(coach_and_draft, client, auth):
    _, version = coach_and_draft
    response = client.post(f"/rubrics/versions/{version.id}/criteria", data={
        "new-criterion-name": "Audience", "csrf_token": auth.csrf_token()})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/rubrics/{version.rubric_id}/versions/1#criteria")


def test_without_javascript_an_invalid_form_shows_the_whole_page(coach_and_draft, client,
                                                                  auth):
    _, version = coach_and_draft
    response = client.post(f"/rubrics/versions/{version.id}/criteria", data={
        "new-criterion-name": "", "csrf_token": auth.csrf_token()})

    assert response.status_code == 422
    assert "<h1>" in response.text and "Give the criterion a name." in response.text


def test_rubric_details_stay_editable_after_freezing(create_district, create_coach,
                                                      create_rubric, auth, hx):
    district = create_district()
    version = create_rubric(district=district, frozen=True)
    auth.login(create_coach(district=district))

    response = hx.post(f"/rubrics/{version.rubric_id}/details", {
        "details-title": "Argument Writing", "details-subject": "ELA",
        "details-grade_band": "9-10"}, target="rubric-details")

    assert response.status_code == 200
    assert "<h1>Argument Writing</h1>" in response.text


# --- who may see and change what --------------------------------------------------------------

def test_teachers_of_the_district_read_but_cannot_edit(create_district, create_school,
                                                       create_teacher, create_rubric, auth,
                                                       client, hx, rubric_snapshot):
    district = create_district()
    version = create_rubric(district=district)
    auth.login(create_teacher(school=create_school(district=district)))
    before = rubric_snapshot(version)

    listing = client.get("/rubrics/")
    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")
    write = hx.post(f"/rubrics/versions/{version.id}/criteria", {"new-criterion-name": "X"},
                    target="add-criterion")
    create = hx.post("/rubrics/new", {"new-title": "Mine"}, target="new-rubric")

    assert version.rubric.title in listing.text
    assert "Build a new rubric" not in listing.text
    assert page.status_code == 200
    assert version.criteria[0].levels[2].descriptor in page.text
    assert "Add criterion" not in page.text and "Edit details" not in page.text
    assert write.status_code == 403
    assert create.status_code == 403
    assert rubric_snapshot(version) == before


def test_district_admins_edit_rubrics_of_their_district(create_district,
                                                        create_district_admin, create_rubric,
                                                        auth, hx):
    district = create_district()
    version = create_rubric(district=district)
    auth.login(create_district_admin(district=district))

    response = hx.post(f"/rubrics/versions/{version.id}/criteria",
                       {"new-criterion-name": "Audience"}, target="add-criterion")

    assert response.status_code == 200


@pytest.mark.parametrize("path", [
    "/rubrics/{r}/versions/1", "/rubrics/{r}/versions/1/export.json", "/rubrics/{r}",
    "/rubrics/criteria/{c}", "/rubrics/versions/{v}/criteria"])
def test_other_districts_rubrics_do_not_exist_for_you(path, create_district, create_coach,
                                                      create_rubric, auth, client):
    version = create_rubric(district=create_district())
    auth.login(create_coach(district=create_district()))

    response = client.get(path.format(r=version.rubric_id, v=version.id,
                                      c=version.criteria[0].id))

    assert response.status_code == 404


def test_other_districts_rubrics_cannot_be_changed(create_district, create_coach,
                                                   create_rubric, auth, hx, rubric_snapshot):
    version = create_rubric(district=create_district())
    auth.login(create_coach(district=create_district()))
    before = rubric_snapshot(version)

    responses = [
        hx.post(f"/rubrics/versions/{version.id}/criteria", {"new-criterion-name": "X"}),
        hx.post(f"/rubrics/criteria/{version.criteria[0].id}/delete"),
        hx.post(f"/rubrics/levels/{version.criteria[0].levels[0].id}/delete"),
        hx.post(f"/rubrics/{version.rubric_id}/details", {"details-title": "Mine"}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert rubric_snapshot(version) == before


def test_a_coach_cannot_create_a_rubric_in_another_district(create_district, create_coach,
                                                            auth, hx, app):
    other = create_district()
    auth.login(create_coach(district=create_district()))

    response = hx.post("/rubrics/new", {
        "new-district_id": str(other.id), "new-title": "Sneaky", "new-subject": "Math",
        "new-grade_band": "5"}, target="new-rubric")

    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Rubric.id))) == 0


def test_logged_out_htmx_requests_are_sent_to_the_login_page(create_district, create_rubric,
                                                             client):
    version = create_rubric(district=create_district())

    response = client.get(f"/rubrics/versions/{version.id}/criteria",
                          headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
