"""Round management never gives a rater their queue away, and open rounds never share work:
a teacher who also coaches (the demo's maya.patel) sees no sample list, is kept out of the
pool of a round she opens, and nobody meets the same sample or anchor twice across open
rounds."""

import re

import pytest

from moderation.accounts.models import District, User
from moderation.core.extensions import db
from moderation.samples.models import WorkSample
from moderation.scoring import services
from moderation.scoring.assignment import ItemKind
from moderation.scoring.models import RoundRater
from rubrics.models import RubricVersion
from tests.conftest import csrf_token_from

CODE = re.compile(r"WS-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def dual_world(scoring_world, make_dual_role):
    """Four schools; the first teacher of school A also coaches school B."""
    world = scoring_world(n_schools=4, teachers_per_school=2, samples_per_school=3, anchors=6)
    maya = make_dual_role(world.teachers[world.schools[0].id][0], world.schools[1])
    return world, maya


def form_data(world, page: str, **fields) -> dict:
    return {"csrf_token": csrf_token_from(page), "district_id": world.district.id,
            "name": "Maya's round", "rubric_version_id": world.version.id,
            "rater_school_ids": [s.id for s in world.schools],
            "rater_ids": [t.id for t in world.all_teachers], "ratings_per_sample": 2,
            "validity_percent": 20, "calibration_size": 2, "seed": 5, **fields}


def test_a_rater_who_coaches_sees_no_sample_of_her_queue_on_round_pages(
        client, auth, dual_world, open_round, scoring_db):
    world, maya = dual_world
    live = world.samples[::2]
    scoring_round = open_round(world, n=2, validity_rate=0.3, calibration_size=2, samples=live)
    queue = scoring_db.items(scoring_round.id, maya)
    assert queue and any(i.anchor_id for i in queue)
    auth.login(maya)
    for page in (client.get("/scoring/rounds/new").text,
                 client.get(f"/scoring/rounds/{scoring_round.id}").text):
        assert not CODE.findall(page)  # no sample rows at all, with or without a school
        assert not {i.sample.code for i in queue} & set(CODE.findall(page))
    page = client.get("/scoring/rounds/new").text
    assert "the list of samples is not shown to you" in page
    assert "6 ready samples not in an open round" in page


def test_a_coach_who_cannot_rate_still_chooses_samples_by_school(client, auth, dual_world,
                                                                 open_round):
    world, _ = dual_world
    open_round(world, n=2, samples=world.samples[::2])
    auth.login(world.coach)  # district-wide: oversees every sample, never a rater
    page = client.get("/scoring/rounds/new").text
    shown = set(CODE.findall(page))
    assert shown == {s.code for s in world.samples[1::2]}
    assert world.schools[2].name in page and 'name="sample_ids"' in page


def test_whoever_opens_a_round_is_kept_out_of_its_pool(app, client, auth, dual_world,
                                                       scoring_db):
    world, maya = dual_world
    with app.app_context(), pytest.raises(services.ScoringError, match="is opening this round"):
        services.plan_round(db.session.get(District, world.district.id), services.RoundRequest(
            name="Another", version=db.session.get(RubricVersion, world.version.id),
            samples=[db.session.get(WorkSample, world.samples[0].id)],
            raters=[db.session.get(User, t.id) for t in world.all_teachers],
            ratings_per_sample=1, validity_rate=0, calibration_size=0, seed=1),
            db.session.get(User, maya.id))
    auth.login(maya)
    page = client.get("/scoring/rounds/new").text
    assert f"{maya.display_name}: is opening this round, so cannot score in it" in page
    assert f'name="rater_ids" value="{maya.id}"' not in page
    opened = client.post("/scoring/rounds/new", data=form_data(world, page))
    assert opened.status_code == 302
    round_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        pool = set(db.session.execute(db.select(RoundRater.user_id)
                                      .where(RoundRater.round_id == round_id)).scalars())
    assert maya.id not in pool and len(pool) == len(world.all_teachers) - 1
    # She never saw the sample list, and the round took every candidate sample.
    assert {i.sample_id for i in scoring_db.items(round_id) if i.kind == ItemKind.LIVE} == {
        s.id for s in world.samples}


def test_the_round_form_offers_only_samples_not_in_an_open_round(client, auth, dual_world,
                                                                  open_round):
    world, _ = dual_world
    first = open_round(world, n=2, samples=world.samples[::2])
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    offered = re.findall(r'name="sample_ids" value="(\d+)"', page)
    assert sorted(map(int, offered)) == sorted(s.id for s in world.samples[1::2])
    assert not re.findall(r'name="sample_ids" value="\d+" checked', page)  # nothing pre-ticked
    assert not {s.code for s in world.samples[::2]} & set(CODE.findall(page))
    # A form from before the first round opened is refused with the round the sample is in.
    stale = client.post("/scoring/rounds/new", data=form_data(
        world, page, sample_ids=[s.id for s in world.samples[:2]], calibration_size=0))
    assert stale.status_code == 422
    assert (f"{world.samples[0].code} is already being scored in “{first.name}”; a sample is "
            f"in one open round at a time.") in stale.text


def test_a_sample_is_live_in_one_open_round_at_a_time(app, dual_world, open_round):
    world, _ = dual_world
    first = open_round(world, n=2, samples=world.samples[::2])
    with pytest.raises(services.ScoringError) as refused:
        open_round(world, n=2, samples=world.samples[:2])
    assert f"is already being scored in “{first.name}”" in str(refused.value)


def test_no_rater_meets_the_same_anchor_in_two_open_rounds(dual_world, open_round, scoring_db):
    world, _ = dual_world
    first = open_round(world, n=2, validity_rate=0, calibration_size=2,
                       samples=world.samples[::2])
    second = open_round(world, n=2, validity_rate=0.3, calibration_size=2,
                        samples=world.samples[1::2])
    met = {}
    for item in scoring_db.items(first.id):
        met.setdefault(item.rater_id, set()).add(item.sample_id)
    repeats = [i for i in scoring_db.items(second.id) if i.sample_id in met.get(i.rater_id, ())]
    assert not repeats
    assert any(i.anchor_id for i in scoring_db.items(second.id))


def test_the_form_warns_when_too_few_unmet_calibration_anchors_remain(
        client, auth, dual_world, open_round):
    world, _ = dual_world
    auth.login(world.coach)
    fresh = client.get("/scoring/rounds/new").text
    assert "Only 6 calibration anchor papers" not in fresh  # 6 >= 5: no warning
    open_round(world, n=2, validity_rate=0.3, calibration_size=2, samples=world.samples[::2])
    page = client.get("/scoring/rounds/new").text
    warning = re.search(r"Only (\d+) calibration anchor papers? of this version", page)
    assert warning and int(warning.group(1)) <= 4
    assert "comparing schools needs a common set of at least 5" in page
    too_many = client.post("/scoring/rounds/preview", data=form_data(
        world, page, calibration_size=5, sample_ids=[s.id for s in world.samples[1::2]]),
        headers={"HX-Request": "true",
                                                    "HX-Target": "design-preview"})
    assert too_many.status_code == 422
    assert "no teacher of the pool has practised or met in another open round" in too_many.text
