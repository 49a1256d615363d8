"""A version that has been used for scoring never changes: every write answers 409 with the
reason and the way forward, and leaves the version exactly as it was."""

import pytest

from rubrics import queries

MESSAGE = ("This version has been used for 42 scores, so it can no longer change. "
           "Create version 2 to make changes.")

# Rubric-level writes that are allowed on a frozen version: creating rubrics, importing,
# creating the next version, and the catalogue details shared by all versions.
NOT_VERSION_WRITES = {"rubrics.create_rubric", "rubrics.import_rubric",
                      "rubrics.create_version", "rubrics.update_details"}


def write_requests(version):
    """(endpoint, url, form data) for every write to a version's content, with data that
    succeeds on a draft."""
    criterion = version.criteria[0]
    level = criterion.levels[0]
    c, lv = criterion.id, level.id
    return {
        "rubrics.add_criterion": (f"/rubrics/versions/{version.id}/criteria",
                                  {"new-criterion-name": "Audience"}),
        "rubrics.update_criterion": (f"/rubrics/criteria/{c}", {f"criterion-{c}-name": "Thesis"}),
        "rubrics.move_criterion": (f"/rubrics/criteria/{c}/move", {"direction": "down"}),
        "rubrics.delete_criterion": (f"/rubrics/criteria/{c}/delete", {}),
        "rubrics.add_level": (f"/rubrics/criteria/{c}/levels", {
            f"new-level-{c}-score": "5", f"new-level-{c}-label": "Exemplary",
            f"new-level-{c}-descriptor": "Goes beyond the grade-level expectation."}),
        "rubrics.update_level": (f"/rubrics/levels/{lv}", {
            f"level-{lv}-score": "1", f"level-{lv}-label": "Emerging",
            f"level-{lv}-descriptor": "Rewritten descriptor."}),
        "rubrics.move_level": (f"/rubrics/levels/{lv}/move", {"direction": "down"}),
        "rubrics.mark_proficient": (f"/rubrics/levels/{lv}/proficient", {}),
        "rubrics.delete_level": (f"/rubrics/levels/{lv}/delete", {}),
    }


WRITE_ENDPOINTS = [
    "rubrics.add_criterion", "rubrics.update_criterion", "rubrics.move_criterion",
    "rubrics.delete_criterion", "rubrics.add_level", "rubrics.update_level",
    "rubrics.move_level", "rubrics.mark_proficient", "rubrics.delete_level"]


@pytest.fixture
def used_42_times(monkeypatch):
    monkeypatch.setattr(queries, "SCORE_COUNTERS", [lambda version_id: 42])


@pytest.fixture
def coach_and_frozen(create_district, create_coach, create_rubric, auth, used_42_times):
    district = create_district()
    coach = create_coach(district=district)
    version = create_rubric(district=district, frozen=True)
    auth.login(coach)
    return coach, version


def test_every_write_endpoint_is_covered(app):
    """A new write endpoint must be added here, so the frozen rule is tested for it."""
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("rubrics.") and "POST" in rule.methods}
    assert posts - NOT_VERSION_WRITES == set(WRITE_ENDPOINTS)


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_a_write_to_a_frozen_version_is_refused_and_changes_nothing(
        endpoint, coach_and_frozen, client, auth, rubric_snapshot):
    _, version = coach_and_frozen
    url, data = write_requests(version)[endpoint]
    before = rubric_snapshot(version)

    response = client.post(url, data={**data, "csrf_token": auth.csrf_token("/rubrics/")})

    assert response.status_code == 409
    assert MESSAGE in response.text
    assert "Create version 2</button>" in response.text  # the way forward, as a button
    assert rubric_snapshot(version) == before


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_an_htmx_write_to_a_frozen_version_reloads_the_page_with_the_message(
        endpoint, coach_and_frozen, hx, client, rubric_snapshot):
    _, version = coach_and_frozen
    url, data = write_requests(version)[endpoint]
    before = rubric_snapshot(version)

    response = hx.post(url, data, target="criteria")

    assert response.status_code == 409
    assert MESSAGE in response.text
    # htmx does not swap a 409, so it is told to reload; the reloaded page says why.
    assert response.headers["HX-Refresh"] == "true"
    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")
    assert MESSAGE in page.text
    assert rubric_snapshot(version) == before


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_the_same_write_succeeds_on_a_draft(endpoint, create_district, create_coach,
                                            create_rubric, auth, client, rubric_snapshot):
    """The control for the tests above: their requests are valid, only the freeze stops them."""
    district = create_district()
    version = create_rubric(district=district)
    auth.login(create_coach(district=district))
    url, data = write_requests(version)[endpoint]
    before = rubric_snapshot(version)

    response = client.post(url, data={**data, "csrf_token": auth.csrf_token("/rubrics/")})

    assert response.status_code == 303, response.text
    assert rubric_snapshot(version) != before


@pytest.mark.parametrize("path", ["/rubrics/criteria/{c}/edit", "/rubrics/levels/{lv}/edit"])
def test_edit_forms_of_a_frozen_version_are_refused(path, coach_and_frozen, hx):
    _, version = coach_and_frozen
    criterion = version.criteria[0]
    url = path.format(c=criterion.id, lv=criterion.levels[0].id)

    response = hx.get(url, target=f"criterion-{criterion.id}")

    assert response.status_code == 409
    assert MESSAGE in response.text


def test_the_frozen_page_says_why_and_offers_the_next_version(coach_and_frozen, client):
    _, version = coach_and_frozen

    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")

    assert page.status_code == 200
    assert MESSAGE in page.text
    assert "Create version 2</button>" in page.text
    # Read-only: the grid is shown, the builder's controls are not.
    assert 'id="rubric-grid"' in page.text
    assert "Add criterion" not in page.text
    assert version.criteria[0].levels[0].descriptor in page.text


def test_without_a_score_count_the_message_still_explains(create_district, create_coach,
                                                          create_rubric, auth, client,
                                                          monkeypatch):
    monkeypatch.setattr(queries, "SCORE_COUNTERS", [])
    district = create_district()
    version = create_rubric(district=district, frozen=True)
    auth.login(create_coach(district=district))

    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")

    assert ("This version is in use for scoring, so it can no longer change. Create version 2 "
            "to make changes.") in page.text


def test_teachers_see_that_a_version_is_in_use_without_the_button(
        create_district, create_school, create_teacher, create_rubric, auth, client):
    district = create_district()
    version = create_rubric(district=district, frozen=True)
    auth.login(create_teacher(school=create_school(district=district)))

    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")

    assert "has been in use for scoring since" in page.text
    assert "Create version" not in page.text


def test_a_frozen_version_with_a_newer_draft_points_to_the_draft(coach_and_frozen, client,
                                                                 auth, hx):
    _, version = coach_and_frozen
    client.post(f"/rubrics/versions/{version.id}/next",
                data={"csrf_token": auth.csrf_token("/rubrics/")})

    response = hx.post(f"/rubrics/versions/{version.id}/criteria",
                       {"new-criterion-name": "Audience"}, target="add-criterion")

    assert response.status_code == 409
    assert ("This version has been used for 42 scores, so it can no longer change. Version 2 "
            "is a draft: make your changes there.") in response.text
    page = client.get(f"/rubrics/{version.rubric_id}/versions/1")
    assert "Open version 2" in page.text
