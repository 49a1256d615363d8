"""Coaches create, preview, open and close rounds; the stored design keeps every rule."""

import re
from collections import Counter, defaultdict

import pytest

from moderation.accounts.models import District, Role, User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.samples.models import WorkSample
from moderation.scoring import services
from moderation.scoring.assignment import ItemKind
from moderation.scoring.models import ScoringRound
from rubrics.models import RubricVersion
from tests.conftest import csrf_token_from


def round_form(world, **fields) -> dict:
    data = {"district_id": world.district.id, "name": "Spring writing round",
            "rubric_version_id": world.version.id,
            "sample_ids": [s.id for s in world.samples],
            "rater_school_ids": [s.id for s in world.schools],
            "rater_ids": [t.id for t in world.all_teachers],
            "ratings_per_sample": 2, "validity_percent": 20, "calibration_size": 1,
            "seed": 7}
    return {**data, **fields}


def post_form(client, url: str, data: dict, htmx: bool = False):
    token = csrf_token_from(client.get("/scoring/rounds/new").text)
    headers = {"HX-Request": "true", "HX-Target": "design-preview"} if htmx else {}
    return client.post(url, data={**data, "csrf_token": token}, headers=headers)


def test_preview_shows_the_design_and_opening_stores_exactly_it(client, auth, app,
                                                                 scoring_world, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=3, samples_per_school=3, anchors=3)
    auth.login(world.coach)

    preview = post_form(client, "/scoring/rounds/preview", round_form(world), htmx=True)
    assert preview.status_code == 200
    assert 'id="design-preview"' in preview.text and "<html" not in preview.text
    assert "School pairs linked" in preview.text and "Components" in preview.text
    assert "Connected" in preview.text

    opened = post_form(client, "/scoring/rounds/new", round_form(world))
    assert opened.status_code == 302
    page = client.get(opened.headers["Location"])
    assert "Spring writing round" in page.text and "is open" in page.text
    # The round page shows the same design as the preview.
    facts = re.compile(r"<dt>(Components|School pairs linked|Live ratings per teacher)</dt>"
                       r"<dd>([^<]*)")
    assert facts.findall(page.text) == facts.findall(preview.text)

    with app.app_context():
        scoring_round = db.session.execute(db.select(ScoringRound)).scalar_one()
        assert scoring_round.rubric_version.is_frozen
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "scoring_round_opened")).scalar_one()
        assert event.details["samples"] == 9 and event.details["raters"] == 9
        round_id = scoring_round.id
    items = scoring_db.items(round_id)
    live = Counter(i.sample_id for i in items if i.kind == ItemKind.LIVE)
    assert live == {s.id: 2 for s in world.samples}


def test_no_teacher_gets_their_own_schools_work_and_every_sample_gets_n(
        app, scoring_world, open_round, scoring_db):
    world = scoring_world(n_schools=4, teachers_per_school=3, samples_per_school=4, anchors=4)
    scoring_round = open_round(world, n=3, validity_rate=0.25, calibration_size=2)
    school_of = {t.id: world.school_of(t).id for t in world.all_teachers}
    sample_school = {s.id: s.school_id for s in world.samples}
    items = scoring_db.items(scoring_round.id)

    live = [i for i in items if i.kind == ItemKind.LIVE]
    assert all(sample_school[i.sample_id] != school_of[i.rater_id] for i in live)
    raters_of = defaultdict(set)
    for item in live:
        raters_of[item.sample_id].add(item.rater_id)
    assert {s: len(r) for s, r in raters_of.items()} == {s.id: 3 for s in world.samples}
    loads = Counter(i.rater_id for i in live)
    assert max(loads.values()) - min(loads.values()) <= 1
    # Anchor papers never come from the rater's own school either: that would give them away.
    school_of_anchor = {a.id: anchor_school(world, a) for a in world.anchors}
    assert all(school_of_anchor[i.anchor_id] != school_of[i.rater_id]
               for i in items if i.kind != ItemKind.LIVE)


def test_a_teacher_working_at_two_schools_gets_neither_schools_work(
        app, scoring_world, open_round, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=3, samples_per_school=4, anchors=0)
    teacher = world.teachers[world.schools[0].id][1]
    second = world.schools[1]
    with app.app_context():
        from moderation.accounts import services as account_services

        account_services.grant_role(db.session.get(User, teacher.id), Role.COACH,
                                    db.session.get(District, world.district.id),
                                    db.session.get(type(second), second.id))
        db.session.commit()
    scoring_round = open_round(world, n=2)
    schools = {s.school_id for s in world.samples
               if s.id in {i.sample_id for i in scoring_db.items(scoring_round.id, teacher)}}
    assert schools and not schools & {world.schools[0].id, second.id}


def test_validity_papers_come_at_the_configured_rate(app, scoring_world, open_round,
                                                     scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=6, anchors=6)
    scoring_round = open_round(world, n=3, validity_rate=0.25, calibration_size=0)
    items = scoring_db.items(scoring_round.id)
    by_rater = defaultdict(Counter)
    for item in items:
        by_rater[item.rater_id][item.kind] += 1
    for counts in by_rater.values():
        # One item in four: L live items are due L * 0.25 / 0.75 papers, floor or ceil.
        due = counts[ItemKind.LIVE] / 3
        assert int(due) <= counts[ItemKind.VALIDITY] <= -int(-due // 1)
    total_live = sum(c[ItemKind.LIVE] for c in by_rater.values())
    total_validity = sum(c[ItemKind.VALIDITY] for c in by_rater.values())
    assert abs(total_validity - total_live / 3) <= 1
    # Papers sit at random positions among live work, each queue numbered 1..n.
    for rater_id in by_rater:
        positions = [i.position for i in items if i.rater_id == rater_id]
        assert sorted(positions) == list(range(1, len(positions) + 1))


def test_every_rater_scores_the_calibration_set(scoring_world, open_round, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=3)
    scoring_round = open_round(world, n=2, calibration_size=3)
    items = scoring_db.items(scoring_round.id)
    for teacher in world.all_teachers:
        calibration = {i.anchor_id for i in items
                       if i.rater_id == teacher.id and i.kind == ItemKind.CALIBRATION}
        # All three anchors, less the one from the teacher's own school (it would stand out).
        assert calibration == {a.id for a in world.anchors
                               if anchor_school(world, a) != world.school_of(teacher).id}


def anchor_school(world, anchor) -> int:
    """Anchors are made round-robin over the schools (the scoring_world factory)."""
    return world.schools[world.anchors.index(anchor) % len(world.schools)].id


def test_demo_sized_round_is_connected(app, scoring_world):
    """24 teachers in 4 schools, 48 samples, 3 ratings each: one component, all pairs linked."""
    world = scoring_world(n_schools=4, teachers_per_school=6, samples_per_school=12, anchors=0)
    with app.app_context():
        request = services.RoundRequest(
            name="Demo-sized", version=db.session.get(RubricVersion, world.version.id),
            samples=[db.session.get(WorkSample, s.id) for s in world.samples],
            raters=[db.session.get(User, t.id) for t in world.all_teachers],
            ratings_per_sample=3, validity_rate=0, calibration_size=0, seed=11)
        plan = services.plan_round(db.session.get(District, world.district.id), request)
    assert plan.report.is_connected and plan.report.n_components == 1
    assert plan.report.school_pair_coverage == 1.0
    assert plan.report.load_max - plan.report.load_min <= 1


@pytest.mark.parametrize("fields, message", [
    ({"ratings_per_sample": 9}, "raters from other schools"),
    ({"calibration_size": 5}, "has only 2 agreed anchors"),
    ({"sample_ids": []}, "Choose at least one work sample"),
    ({"name": ""}, "Give the round a name"),
])
def test_impossible_rounds_are_refused_with_a_reason(client, auth, scoring_world, fields,
                                                     message):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=2)
    auth.login(world.coach)
    preview = post_form(client, "/scoring/rounds/preview", round_form(world, **fields),
                        htmx=True)
    assert preview.status_code == 422
    assert message in preview.text
    opened = post_form(client, "/scoring/rounds/new", round_form(world, **fields))
    assert opened.status_code == 422 and message in opened.text


@pytest.mark.parametrize("seed", [-1, 2**31, 10**20])
def test_a_seed_out_of_range_is_refused_with_a_message(client, auth, scoring_world, seed):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=2)
    auth.login(world.coach)
    for url, htmx in (("/scoring/rounds/preview", True), ("/scoring/rounds/new", False)):
        response = post_form(client, url, round_form(world, seed=seed), htmx=htmx)
        assert response.status_code == 422
        assert "random seed must be a whole number from 0 to 2147483647" in response.text
    assert "Preview of the design" not in response.text


def test_round_names_are_unique_in_a_district(client, auth, scoring_world, open_round):
    world = scoring_world()
    open_round(world, name="Spring writing round", samples=world.samples[:1])
    auth.login(world.coach)
    response = post_form(client, "/scoring/rounds/new", round_form(
        world, calibration_size=0, sample_ids=[s.id for s in world.samples[1:]]))
    assert response.status_code == 422
    assert "already has a round called “Spring writing round”" in response.text


def test_round_page_shows_counts_never_scores_and_closes(client, auth, app, hx, scoring_world,
                                                         open_round, scoring_db):
    world = scoring_world()
    scoring_round = open_round(world, n=2)
    teacher = world.all_teachers[0]
    item = scoring_db.items(scoring_round.id, teacher)[0]
    criteria = scoring_db.criteria(world.version)
    auth.login(teacher)
    from tests.fixtures.scoring import score_form

    hx.post(f"/scoring/items/{item.token}/submit",
            score_form(criteria, [4, 1], {0: "Distinctive comment 7731"}), target="queue-item")
    auth.logout()

    auth.login(world.coach)
    page = client.get(f"/scoring/rounds/{scoring_round.id}")
    assert page.status_code == 200
    assert "Distinctive comment 7731" not in page.text
    row = re.search(rf"<td>{re.escape(teacher.display_name)}</td>.*?</tr>", page.text, re.S)
    assert re.findall(r'class="num">(\d+)<', row.group(0))[:1] == ["1"]

    refused = hx.post(f"/scoring/rounds/{scoring_round.id}/close", {}, target="round-status")
    assert refused.status_code == 422 and "Tick the box" in refused.text
    closed = hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"},
                     target="round-status")
    assert closed.status_code == 200 and "Closed" in closed.text
    assert closed.headers["HX-Trigger"] == "roundClosed"
    assert scoring_db.round(scoring_round.id).closed_at is not None
    again = hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"},
                    target="round-status")
    assert again.status_code == 409


def test_rounds_are_for_coaches_and_admins_of_the_district(client, auth, scoring_world,
                                                           open_round, create_coach,
                                                           create_district_admin):
    world = scoring_world()
    scoring_round = open_round(world)
    auth.login(world.all_teachers[0])
    assert client.get("/scoring/rounds").status_code == 403
    assert client.get(f"/scoring/rounds/{scoring_round.id}").status_code == 403
    auth.logout()

    school_coach = create_coach(school=world.schools[0])
    auth.login(school_coach)  # a school coach runs rounds for the whole district
    assert client.get(f"/scoring/rounds/{scoring_round.id}").status_code == 200
    auth.logout()

    auth.login(create_district_admin())  # another district
    assert client.get(f"/scoring/rounds/{scoring_round.id}").status_code == 404
    assert scoring_round.name not in client.get("/scoring/rounds").text
    assert client.get(f"/scoring/rounds/new?district_id={world.district.id}").status_code == 403


def test_pool_leaves_out_those_who_oversee_the_district(app, client, auth, scoring_world):
    world = scoring_world(n_schools=2, teachers_per_school=2, samples_per_school=1, anchors=0)
    teacher = world.all_teachers[0]
    with app.app_context():
        from moderation.accounts import services as account_services

        account_services.grant_role(db.session.get(User, teacher.id), Role.COACH,
                                    db.session.get(District, world.district.id), None)
        db.session.commit()
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new")
    assert f"{teacher.display_name}: oversees the district&#39;s samples" in page.text
    assert f'name="rater_ids" value="{teacher.id}"' not in page.text


def test_round_ratings_feed_the_statistics(app, scoring_world, open_round, scoring_db):
    """Blind scores, local scores and the anchors' agreed scores make one valid ratings table,
    from which each rater's accuracy on the anchor papers follows."""
    from moderation.analysis.inputs import rater_code, round_ratings
    from moderation.scoring.models import QueueItem
    from moderation.statistics.reliability import anchor_agreement
    from moderation.statistics.table import latest_blind, validate_ratings

    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=3)
    scoring_round = open_round(world, n=2, validity_rate=0.3, calibration_size=1)
    criteria = scoring_db.criteria(world.version)
    with app.app_context():
        sample = db.session.get(WorkSample, world.samples[0].id)
        from moderation.samples import services as sample_services

        sample_services.record_local_scores(sample, db.session.get(User, sample.uploaded_by_id),
                                            {c.id: 4 for c in criteria})
        for item in db.session.execute(db.select(QueueItem)).scalars():
            services.submit_item(item, db.session.get(User, item.rater_id),
                                 {c.id: 3 for c in criteria}, {})
        db.session.commit()
        table = validate_ratings(round_ratings(scoring_round.id))
    assert set(table["kind"]) == {"blind", "local", "reference"}
    n_items = len(scoring_db.items(scoring_round.id))
    assert (table["kind"] == "blind").sum() == n_items * len(criteria)
    accuracy = anchor_agreement(table, latest_blind(table))
    anchored = {rater_code(i.rater_id) for i in scoring_db.items(scoring_round.id)
                if i.anchor_id}
    assert set(accuracy.index) == anchored
    assert (accuracy["anchor_exact_agreement"] == 1.0).all()  # everyone gave the agreed 3


def test_choosing_another_rubric_version_refreshes_the_form(client, auth, hx, app,
                                                            scoring_world,
                                                            create_rubric):
    world = scoring_world(n_schools=2, teachers_per_school=1, samples_per_school=1, anchors=0)
    other = create_rubric(world.district.id, criteria=2)
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    assert all(s.code in page for s in world.samples)  # the version with work ready
    fragment = hx.get(f"/scoring/rounds/new?district_id={world.district.id}"
                      f"&rubric_version_id={other.id}", target="round-form")
    assert fragment.status_code == 200 and fragment.text.startswith('<form id="round-form"')
    assert "0 ready samples" in fragment.text and "No samples match" in fragment.text
    assert not any(s.code in fragment.text for s in world.samples)


def test_unticking_a_school_leaves_its_teachers_out_of_the_pool(client, auth, app,
                                                                 scoring_world):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=2)
    left_out = world.schools[2]
    auth.login(world.coach)

    opened = post_form(client, "/scoring/rounds/new", round_form(
        world, rater_school_ids=[s.id for s in world.schools[:2]]))  # every teacher ticked

    assert opened.status_code == 302
    with app.app_context():
        scoring_round = db.session.execute(db.select(ScoringRound)).scalar_one()
        pool = {r.user_id for r in scoring_round.raters}
    assert pool == {t.id for s in world.schools[:2] for t in world.teachers[s.id]}
    assert not pool & {t.id for t in world.teachers[left_out.id]}
