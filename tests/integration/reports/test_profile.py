"""The teacher's calibration profile: their own results, from closed rounds only, framed for
growth, with every figure's n and interval; theirs alone unless the district shares calibration
results with coaches, and never a district administrator's or school leader's to read."""

import re
import uuid

import pytest

from moderation.accounts.models import Role, User
from moderation.analysis.inputs import rater_code
from moderation.analysis.models import AnalysisRun, AnalysisRunPart
from moderation.core.extensions import db
from moderation.practice import services as practice_services
from moderation.samples.models import Anchor, AnchorPool
from tests.fixtures.analysis import close

# The same setting names raters in the round report and opens their profiles to coaches;
# few_replicates keeps the analysis job short here too.
from tests.integration.reports.test_round_report import (  # noqa: F401
    ENGINE_CODE,
    allow_names,
    few_replicates,
)

INTERVAL = re.compile(r"95% interval [+-]\d\.\d\d to [+-]\d\.\d\d")


@pytest.fixture
def profiled(app, scored_round, create_sample, create_anchor):
    """A round scored and still open, with a practice paper (agreed 3 on every criterion, the
    level the validity papers have too) in the district's practice pool, which the first
    teacher practised four times: a level above the agreed score on the first criterion in
    three of them (the seed gives them one validity paper a level above on it too)."""
    scored = scored_round()
    world = scored.world
    school = world.schools[0]
    sample = create_sample(school=school, rubric_version=world.version, kind="text",
                           uploader=world.teachers[school.id][0], ready=True)
    scored.practice_anchor = create_anchor(sample, by=world.coach, pool=AnchorPool.PRACTICE)
    with app.app_context():
        anchor = db.session.get(Anchor, scored.practice_anchor.id)
        first, second = sorted(anchor.rubric_version.criteria, key=lambda c: c.position)
        for claim in (4, 4, 4, 3):
            practice_services.submit_practice(
                anchor, db.session.get(User, teacher_a(scored).id),
                {first.id: claim, second.id: 3}, {}, uuid.uuid4().hex)
        db.session.commit()
    return scored


def finish(app, scored) -> None:
    close(app, scored)
    app.extensions["jobs"].drain()


def teacher_a(scored) -> User:
    return scored.world.all_teachers[0]


def url(teacher: User) -> str:
    return f"/reports/teachers/{teacher.id}/profile"


def main(page) -> str:
    return page.text.split("<main", 1)[1]


def test_the_teacher_reads_their_own_results_per_criterion_and_per_round(app, client, auth,
                                                                         profiled):
    finish(app, profiled)
    teacher = teacher_a(profiled)
    auth.login(teacher)
    home = client.get("/teacher").text
    assert f'href="{url(teacher)}"' in home and "My calibration profile" in home
    page = client.get(url(teacher))
    assert page.status_code == 200
    text = main(page)
    assert "Who can see this: only you." in text
    # Each criterion: a sentence that describes a tendency, with the figure's n and interval.
    assert ("you tend to score about 0.8 points above the agreed score, mostly between levels 3 "
            "and 4.") in text
    assert INTERVAL.search(text)
    assert re.search(r"\d+ scores?\)", text)
    assert re.search(r"matched the agreed score exactly: \d+ of \d+ \(\d+%, 95% interval "
                     r"\d+–\d+%\)", text)
    # The closed round's analysis: their fair-average difference against the other raters.
    assert "Round by round, against the other raters" in text
    assert re.search(r"Your scores were close to the average rater|You tended to score about",
                     text)
    assert not re.search(r"\byou failed\b|\bwrong\b", text, re.IGNORECASE)
    assert not ENGINE_CODE.search(text)
    assert "Rater " not in text


def test_practice_papers_are_suggested_at_the_levels_the_teacher_mixes_up(app, client, auth,
                                                                          profiled):
    finish(app, profiled)
    teacher = teacher_a(profiled)
    auth.login(teacher)
    text = main(client.get(url(teacher)))
    practice = text.split('id="profile-practice"', 1)[1]
    # Every validity paper is agreed at 3; any mix-up involves level 3, the practice paper's.
    link = f'href="/scoring/practice/papers/{profiled.practice_anchor.id}"'
    assert link in practice
    assert "Claim: levels 3 and 4" in practice and "agreed level 3 on Claim" in practice


def _add_to_run(app, scored, teacher, proposal: dict, bias: dict, drift: dict) -> None:
    """Add to the round's finished run what its engine says of `teacher` when it finds
    something: a finding with a practice set, a rater x criterion bias term, a drift."""
    with app.app_context():
        run_id = db.session.execute(db.select(AnalysisRun.id).where(
            AnalysisRun.scope_id == scored.round_id)).scalar_one()
        parts = {part.name: part for part in db.session.execute(db.select(AnalysisRunPart).where(
            AnalysisRunPart.run_id == run_id)).scalars()}
        parts["triggers"].data = {"triggers": [*parts["triggers"].data["triggers"], proposal]}
        parts["bias"].data = {"bias": [*(parts["bias"].data["bias"] or []), bias]}
        raters = [{**rater, "drift": {**rater["drift"], **drift}}
                  if rater["rater"] == rater_code(teacher.id) else rater
                  for rater in parts["raters"].data["raters"]]
        parts["raters"].data = {**parts["raters"].data, "raters": raters}
        db.session.commit()


def test_what_the_analysis_found_of_the_teacher_is_on_the_page(app, client, auth, profiled):
    finish(app, profiled)
    teacher = teacher_a(profiled)
    code = rater_code(teacher.id)
    criterion = profiled.world.version.criteria[0]
    _add_to_run(
        app, profiled, teacher,
        proposal={"kind": "rater_severity", "target": code,
                  "action": {"kind": "private_practice_set",
                             "audience": "the rater and their coach only",
                             "material": {"levels": [[4, 3]]}, "description": "..."}},
        bias={"kind": "rater_criterion", "rater": code, "criterion": f"C{criterion.id}",
              "n": 12, "effect": 0.41, "effect_ci95": [0.12, 0.7], "bias": 0.9,
              "bias_se": 0.3, "t": 3.0, "df": 11, "p": 0.01, "q": 0.04},
        drift={"flagged": True, "onset": "2026-11-02T10:00:00+00:00", "shift_points": -0.35,
               "shift_points_ci95": [-0.6, -0.1], "n_timed": 20})
    auth.login(teacher)
    text = main(client.get(url(teacher)))
    assert ("suggests a private practice set on the levels you tend to mix up (a 4 where the "
            "agreed score is 3)") in text
    assert (f"On {criterion.name} you tended to score about 0.41 points higher than your other "
            "scores predict") in text
    assert "(95% interval +0.12 to +0.70, 12 scores)" in text
    assert ("Your scoring became about 0.35 points per score harsher from 2026-11-02 (95% "
            "interval -0.60 to -0.10, 20 timed scores).") in text


def test_an_open_round_stays_out_of_the_profile(app, client, auth, profiled):
    """Its validity papers and its analysis appear only once it has closed."""
    teacher = teacher_a(profiled)
    auth.login(teacher)
    text = main(client.get(url(teacher)))
    assert "Round by round" not in text and "Validity papers in rounds" not in text
    assert "Claim" in text and "+0.75 points (95% interval" in text  # the practice alone
    assert "4 scores)" in text and "5 scores)" not in text
    finish(app, profiled)
    text = main(client.get(url(teacher)))
    assert "Round by round" in text and "Validity papers in rounds" in text
    assert "+0.80 points (95% interval" in text and "5 scores)" in text


def test_another_teacher_never_opens_a_teachers_profile(app, client, auth, profiled):
    finish(app, profiled)
    allow_names(app, profiled)
    teachers = profiled.world.all_teachers
    auth.login(teachers[1])
    assert client.get(url(teachers[0])).status_code == 404
    assert client.get(url(teachers[1])).status_code == 200


def test_a_coach_opens_a_profile_only_where_the_district_shares_it(app, client, auth, profiled):
    finish(app, profiled)
    world = profiled.world
    teacher = teacher_a(profiled)
    auth.login(world.coach)
    assert client.get(url(teacher)).status_code == 404
    assert url(teacher) not in client.get("/coach").text
    allow_names(app, profiled)
    page = client.get(url(teacher))
    assert page.status_code == 200
    assert f"Calibration profile of {teacher.display_name}" in page.text
    assert (f"Who can see this: {teacher.display_name}, and the coaches of their school and "
            "district, because the district shares calibration results with coaches") in page.text
    # A coach reads the papers' names, and has no practice page to follow.
    assert "/scoring/practice/papers/" not in main(page)
    assert f'href="{url(teacher)}"' in client.get("/coach").text


def test_a_coach_of_another_school_does_not_open_it(app, client, auth, create_coach, profiled):
    finish(app, profiled)
    allow_names(app, profiled)
    world = profiled.world
    other_school_coach = create_coach(school=world.schools[1])
    auth.login(other_school_coach)
    assert client.get(url(teacher_a(profiled))).status_code == 404


@pytest.mark.parametrize("role", [Role.DISTRICT_ADMIN, Role.SCHOOL_LEADER])
def test_administrators_and_school_leaders_never_see_a_profile(app, client, auth, create_user,
                                                               profiled, role):
    finish(app, profiled)
    allow_names(app, profiled)
    world = profiled.world
    reader = create_user(role, district=world.district,
                         school=world.schools[0] if role is Role.SCHOOL_LEADER else None)
    auth.login(reader)
    assert client.get(url(teacher_a(profiled))).status_code == 403
