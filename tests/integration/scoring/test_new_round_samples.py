"""The New round form at district scale: its sample list is filtered on the server (school,
grade band, upload dates, round status), paged, counted, selected one by one or "all
matching" less the unticked, and never offers work already live in an open round."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from moderation.accounts.models import School, User
from moderation.core.extensions import db
from moderation.samples.models import SampleStatus, WorkSample
from moderation.scoring.assignment import ItemKind
from tests.conftest import csrf_token_from

CODE = re.compile(r"WS-[0-9A-Z]{4}-[0-9A-Z]{4}")
URL = "/scoring/rounds/new/samples"


@pytest.fixture
def banded_world(app, scoring_world):
    """Four schools, two K-5 and two 6-8, three samples each; the first school's samples
    uploaded in September, the others in November."""
    world = scoring_world(n_schools=4, teachers_per_school=2, samples_per_school=3, anchors=0)
    with app.app_context():
        for i, school in enumerate(world.schools):
            db.session.get(School, school.id).grade_band = "K-5" if i < 2 else "6-8"
        for sample in world.samples:
            month = 9 if sample.school_id == world.schools[0].id else 11
            db.session.get(WorkSample, sample.id).created_at = datetime(2026, month, 15,
                                                                        tzinfo=UTC)
        db.session.commit()
    return world


def list_url(world, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"district_id": world.district.id,
                                              "rubric_version_id": world.version.id,
                                              **params}.items())
    return f"{URL}?{query}"


def codes(html: str) -> set[str]:
    return set(CODE.findall(html))


def codes_of(samples) -> set[str]:
    return {s.code for s in samples}


def ticked(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="sample_ids" value="(\d+)" checked', html)}


def summary(html: str) -> str:
    return re.search(r'id="sample-count"[^>]*><strong>([^<]*)</strong>', html).group(1)


def test_the_list_is_filtered_by_school_grade_band_and_upload_date(client, auth, hx,
                                                                    banded_world):
    world = banded_world
    auth.login(world.coach)
    by_school = {s.id: [x for x in world.samples if x.school_id == s.id] for s in world.schools}

    everything = hx.get(list_url(world), target="round-samples")
    assert everything.status_code == 200
    assert everything.text.startswith('<fieldset id="round-samples"')
    assert codes(everything.text) == codes_of(world.samples)
    assert summary(everything.text) == "12 samples match; 0 selected."

    school = world.schools[1]
    one_school = hx.get(list_url(world, school_id=school.id), target="round-samples")
    assert codes(one_school.text) == codes_of(by_school[school.id])
    assert summary(one_school.text) == "3 samples match; 0 selected."

    band = hx.get(list_url(world, grade_band="6-8"), target="round-samples")
    assert codes(band.text) == codes_of(by_school[world.schools[2].id]
                                        + by_school[world.schools[3].id])

    autumn = hx.get(list_url(world, uploaded_from="2026-09-01", uploaded_to="2026-09-15"),
                    target="round-samples")
    assert codes(autumn.text) == codes_of(by_school[world.schools[0].id])
    later = hx.get(list_url(world, uploaded_from="2026-10-01", grade_band="K-5"),
                   target="round-samples")
    assert codes(later.text) == codes_of(by_school[world.schools[1].id])


def test_upload_dates_are_days_of_the_viewers_zone(client, auth, hx, app, banded_world):
    world = banded_world
    late_evening = world.samples[3]  # 22:00 on 15 November in New York, 03:00 UTC on the 16th
    with app.app_context():
        db.session.get(WorkSample, late_evening.id).created_at = datetime(2026, 11, 16, 3,
                                                                          tzinfo=UTC)
        db.session.get(User, world.coach.id).time_zone = "America/New_York"
        db.session.commit()
    auth.login(world.coach)
    on_the_15th = hx.get(list_url(world, uploaded_from="2026-11-15", uploaded_to="2026-11-15"),
                         target="round-samples").text
    assert late_evening.code in codes(on_the_15th)
    assert late_evening.code not in codes(hx.get(list_url(world, uploaded_from="2026-11-16"),
                                                 target="round-samples").text)
    # The ends of the calendar bound nothing, whatever the zone.
    with app.app_context():
        db.session.get(User, world.coach.id).time_zone = "Pacific/Kiritimati"
        db.session.commit()
    widest = hx.get(list_url(world, uploaded_from="0001-01-01", uploaded_to="9999-12-31"),
                    target="round-samples")
    assert widest.status_code == 200 and codes(widest.text) == codes_of(world.samples)


@pytest.mark.parametrize("params, message", [
    ({"uploaded_from": "15/09/2026"}, "Give a date as year-month-day, e.g. 2026-12-11."),
    ({"uploaded_from": "2026-10-01", "uploaded_to": "2026-09-01"},
     "The “to” date is before the “from” date."),
    ({"history": "everything"}, "Not a valid choice"),
])
def test_a_bad_filter_is_answered_with_its_message(client, auth, hx, banded_world, params,
                                                    message):
    auth.login(banded_world.coach)
    response = hx.get(list_url(banded_world, **params), target="round-samples")
    assert response.status_code == 422
    assert message in response.text and not codes(response.text)


def test_more_ticks_than_a_form_should_carry_are_refused_with_a_way_on(client, auth, hx,
                                                                       banded_world):
    auth.login(banded_world.coach)
    ticks = "".join(f"&sample_ids={i}" for i in range(1, 5002))
    response = hx.get(list_url(banded_world) + ticks, target="round-samples")
    assert response.status_code == 422
    assert "Tick at most 5000 samples one by one; for more, use “Select all matching”." in (
        response.text)


def test_round_status_tells_never_scored_from_scored_from_in_an_open_round(
        client, auth, hx, banded_world, open_round):
    world = banded_world
    closed = open_round(world, n=1, samples=world.samples[:3], name="Autumn")
    auth.login(world.coach)
    csrf = auth.csrf_token(f"/scoring/rounds/{closed.id}")
    client.post(f"/scoring/rounds/{closed.id}/close", data={"confirmed": "y",
                                                            "csrf_token": csrf})
    live = open_round(world, n=1, samples=world.samples[3:5], name="Winter")

    default = hx.get(list_url(world), target="round-samples").text
    assert codes(default) == codes_of(world.samples[:3] + world.samples[5:])
    assert "2 more are in an open round and cannot be chosen." in default
    never = hx.get(list_url(world, history="never"), target="round-samples").text
    assert codes(never) == codes_of(world.samples[5:])
    scored = hx.get(list_url(world, history="closed"), target="round-samples").text
    assert codes(scored) == codes_of(world.samples[:3])
    assert scored.count("scored in a closed round") == 3

    in_open = hx.get(list_url(world, history="open"), target="round-samples").text
    assert codes(in_open) == codes_of(world.samples[3:5])
    assert in_open.count(f"in “{live.name}”, so it cannot be chosen") == 2
    assert 'name="sample_ids"' not in in_open  # shown, never choosable
    assert "Select all" not in in_open


def test_nothing_is_ticked_until_the_coach_chooses(client, auth, banded_world, open_round):
    world = banded_world
    open_round(world, n=1, samples=world.samples[:2])
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    assert 'name="sample_ids"' in page and not ticked(page)
    assert not codes_of(world.samples[:2]) & codes(page)
    assert "0 selected." in page


def test_ticks_are_kept_across_pages_and_counted(client, auth, hx, app, banded_world):
    world = banded_world
    auth.login(world.coach)
    first, second = world.samples[0], world.samples[-1]
    # Page 1 showed the first sample; it is ticked, and another from elsewhere was ticked
    # before: both stay chosen on another filter, the one off the page as a hidden input.
    response = hx.get(list_url(world, school_id=world.schools[0].id, sample_ids=first.id,
                               page_sample_ids=first.id) + f"&sample_ids={second.id}",
                      target="round-samples")
    assert summary(response.text) == "3 samples match; 2 selected."
    assert ticked(response.text) == {first.id}
    assert f'type="hidden" name="sample_ids" value="{second.id}"' in response.text
    cleared = hx.get(list_url(world, sample_ids=first.id, action="clear"),
                     target="round-samples")
    assert summary(cleared.text) == "12 samples match; 0 selected." and not ticked(cleared.text)


def round_data(world, page: str, **fields) -> dict:
    return {"csrf_token": csrf_token_from(page), "district_id": world.district.id,
            "name": "Filtered round", "rubric_version_id": world.version.id,
            "rater_school_ids": [s.id for s in world.schools],
            "rater_ids": [t.id for t in world.all_teachers], "ratings_per_sample": 1,
            "validity_percent": 0, "calibration_size": 0, "seed": 3, **fields}


def live_samples(scoring_db, response) -> set[int]:
    round_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return {i.sample_id for i in scoring_db.items(round_id) if i.kind == ItemKind.LIVE}


def test_select_all_matching_takes_the_filter_at_submit_less_the_unticked(
        client, auth, hx, app, banded_world, open_round, create_sample, scoring_db):
    world = banded_world
    k5 = [s for s in world.samples if s.school_id in {world.schools[0].id, world.schools[1].id}]
    in_open = open_round(world, n=1, samples=k5[:1], name="Open already")
    auth.login(world.coach)
    selected = hx.get(list_url(world, grade_band="K-5", action="select_all"),
                      target="round-samples")
    assert summary(selected.text) == "5 samples match; 5 selected."
    assert "Every sample matching the filters when the round opens is in it." in selected.text
    assert ticked(selected.text) == {s.id for s in k5[1:]}

    # Unticked on this page: k5[1]; unticked on an earlier page: k5[2]. A K-5 sample uploaded
    # after the list was shown still matches, so the round takes it too.
    later = create_sample(school=world.schools[1], rubric_version=world.version, kind="text",
                          uploader=world.teachers[world.schools[1].id][0], ready=True)
    page = client.get("/scoring/rounds/new").text
    opened = client.post("/scoring/rounds/new", data=round_data(
        world, page, grade_band="K-5", selection="all",
        page_sample_ids=[s.id for s in [k5[1], *k5[3:]]], sample_ids=[s.id for s in k5[3:]],
        excluded_sample_ids=[k5[2].id]))
    assert opened.status_code == 302, opened.text
    assert live_samples(scoring_db, opened) == {s.id for s in k5[3:]} | {later.id}
    assert in_open.id  # the sample live in that round was never taken


def test_all_matching_never_takes_work_of_an_open_round(client, auth, banded_world,
                                                        open_round):
    world = banded_world
    open_round(world, n=1, samples=world.samples[:3])
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    refused = client.post("/scoring/rounds/new", data=round_data(
        world, page, selection="all", history="open"))
    assert refused.status_code == 422
    assert "Choose at least one work sample" in refused.text


def test_a_coach_who_teaches_sees_counts_and_takes_every_matching_sample(
        client, auth, hx, scoring_world, make_dual_role, scoring_db):
    world = scoring_world(n_schools=4, teachers_per_school=2, samples_per_school=3, anchors=0)
    maya = make_dual_role(world.teachers[world.schools[0].id][0], world.schools[1])
    auth.login(maya)
    school = world.schools[2]
    counted = hx.get(list_url(world, school_id=school.id), target="round-samples")
    assert summary(counted.text) == "3 samples match; 3 selected."
    assert not codes(counted.text) and "Select all" not in counted.text
    page = client.get("/scoring/rounds/new").text
    # Ticks she could not have made are ignored: her round takes what the filters match.
    opened = client.post("/scoring/rounds/new", data=round_data(
        world, page, school_id=school.id, sample_ids=[world.samples[0].id],
        rater_ids=[t.id for t in world.all_teachers if t.id != maya.id]))
    assert opened.status_code == 302, opened.text
    assert live_samples(scoring_db, opened) == {s.id for s in world.samples
                                                 if s.school_id == school.id}


def test_each_number_field_has_its_own_help_under_it(client, auth, banded_world):
    auth.login(banded_world.coach)
    page = client.get("/scoring/rounds/new").text
    for name, words in (("ratings_per_sample", "How many teachers from other schools"),
                        ("validity_percent", "Anchor papers mixed in at random"),
                        ("calibration_size", "Links every teacher to every other"),
                        ("due_date", "The day teachers should have scored")):
        field = re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)
        assert f'aria-describedby="{name}-hint"' in field
        hint = re.search(rf'<p class="hint" id="{name}-hint">([^<]*)</p>', page).group(1)
        assert hint.startswith(words)


# --- at district scale ---------------------------------------------------------------------

def add_samples(app, world, n: int) -> None:
    """`n` ready text samples spread over the world's schools, inserted in one statement (the
    list never opens their files)."""
    uploader = world.all_teachers[0]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with app.app_context():
        db.session.execute(insert(WorkSample), [{
            "code": f"WS-{i // 10000:04d}-{i % 10000:04d}",
            "school_id": world.schools[i % len(world.schools)].id,
            "uploaded_by_id": uploader.id, "rubric_version_id": world.version.id,
            "title": f"Essay {i}", "status": SampleStatus.READY, "storage_key": f"bulk/{i}",
            "size": 10, "content_type": "text/plain", "checksum_sha256": "0" * 64,
            "created_at": start + timedelta(hours=i)} for i in range(n)])
        db.session.commit()


@pytest.mark.slow
def test_two_thousand_samples_come_a_page_at_a_time_in_few_statements(
        client, auth, hx, app, scoring_world, count_statements):
    world = scoring_world(n_schools=4, teachers_per_school=2, samples_per_school=0, anchors=0)
    add_samples(app, world, 2000)
    auth.login(world.coach)
    hx.get(list_url(world), target="round-samples")  # the CSRF token and caches are warm

    with count_statements() as log:
        response = hx.get(list_url(world, action="select_all", page=3), target="round-samples")
    assert response.status_code == 200
    assert summary(response.text) == "2000 samples match; 2000 selected."
    assert "Page 3 of 40" in response.text
    assert len(ticked(response.text)) == 50 and len(codes(response.text)) == 50
    # 14 when written: the user, their memberships, the district, the versions, three counts,
    # the page, its schools and its rounds. A query per sample would be hundreds.
    assert log.count <= 16, log.report()

    with count_statements() as log:
        page = client.get("/scoring/rounds/new")
    assert len(codes(page.text)) == 50 and "Page 1 of 40" in page.text
    assert log.count <= 26, log.report()
