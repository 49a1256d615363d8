"""The coach's round report: read from the round's finished run, as each reader may see it.

A rater's results are theirs: coaches see the raters of their scope under stable anonymous
labels (names only where the district allows it), district administrators see no rater one
by one, and no rater reaches the report of an open round."""

import csv
import html
import io
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook

from moderation.accounts.models import District, User
from moderation.core.extensions import db
from moderation.reports import round_report
from moderation.reports.pages import PAGE_CACHE
from moderation.scoring.models import ScoringRound
from moderation.settings import services as settings_services
from tests.fixtures.analysis import analyse, close, revise_a_rating

# An engine code of a rater, school or criterion (R12, S3, C5): never on a page or in an export.
ENGINE_CODE = re.compile(r"(?<![\w-])[RSC]\d+(?![\w-])")


@pytest.fixture(autouse=True)
def few_replicates(app):
    app.config["ANALYSIS_BOOTSTRAP"] = 50


def url(scored, tail: str = "") -> str:
    return f"/reports/rounds/{scored.round_id}{tail}"


def rater_rows(page: str) -> list[str]:
    """The rater labels of the severity chart's data table."""
    table = page.split('id="chart-rater-severity"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>([^<]+)</td>", table)


def allow_names(app, scored) -> None:
    with app.app_context():
        settings_services.update_settings(
            db.session.get(District, scored.world.district.id),
            db.session.get(User, scored.world.admin.id), {"calibration_visible_to_coaches": True})
        db.session.commit()


def test_a_district_coach_reads_reliability_raters_design_and_findings(app, client, auth,
                                                                        reported_round):
    world = reported_round.world
    auth.login(world.coach)
    page = client.get(url(reported_round))
    assert page.status_code == 200
    text = page.text
    assert re.search(r"As of <strong>\d+ ratings</strong> at", text)
    assert re.search(r"Evidence: (no alpha|alpha -?\d\.\d\d)", text)
    assert "the district uses for tentative conclusions" in text or "no alpha" in text
    assert "How far blind scores agree, per criterion" in text and "<svg" in text
    assert "How generous each rater is" in text
    labels = rater_rows(text)
    assert labels and all(re.fullmatch(r"Rater \d+", label) for label in labels)
    assert not any(teacher.display_name in text for teacher in world.all_teachers)
    assert not ENGINE_CODE.search(text.split("<main", 1)[1])
    assert "Linkage strength" in text and "Findings and proposed actions" in text
    assert "/reports/rounds/" in client.get(f"/scoring/rounds/{reported_round.round_id}").text


def test_labels_are_stable_across_views_and_runs_of_the_round(app, client, auth, reported_round):
    auth.login(reported_round.world.coach)
    first = rater_rows(client.get(url(reported_round)).text)
    assert rater_rows(client.get(url(reported_round)).text) == first
    assert sorted(first, key=lambda label: int(label.split()[1])) == \
        [f"Rater {n}" for n in range(1, len(first) + 1)]


def test_coaches_see_teachers_names_only_where_the_district_allows_it(app, client, auth,
                                                                       reported_round):
    allow_names(app, reported_round)
    auth.login(reported_round.world.coach)
    labels = rater_rows(client.get(url(reported_round)).text)
    names = {teacher.display_name for teacher in reported_round.world.all_teachers}
    assert labels and set(labels) <= names


def test_a_district_administrator_sees_no_rater_one_by_one(app, client, auth, reported_round):
    allow_names(app, reported_round)    # even where coaches may see names
    auth.login(reported_round.world.admin)
    text = client.get(url(reported_round)).text
    assert "How far blind scores agree" in text
    assert 'id="chart-rater-severity"' not in text and not re.search(r"Rater \d+", text)
    assert not any(t.display_name in text for t in reported_round.world.all_teachers)
    workbook = load_workbook(io.BytesIO(client.get(url(reported_round, "/report.xlsx")).data))
    assert "Raters" not in workbook.sheetnames and "Criteria" in workbook.sheetnames
    exported = client.get(url(reported_round, "/report.json")).get_json()
    assert exported["raters"] == [] and not exported["bias"]


def test_a_school_coach_sees_their_own_schools_raters_only(app, client, auth, create_coach,
                                                           reported_round):
    world = reported_round.world
    school = world.schools[0]
    coach = create_coach(school=school, name="School Coach")
    allow_names(app, reported_round)
    auth.login(coach)
    text = client.get(url(reported_round)).text
    assert "How far blind scores agree" in text and "Linkage strength" in text
    own = {teacher.display_name for teacher in world.teachers[school.id]}
    assert set(rater_rows(text)) <= own and rater_rows(text)
    others = [t.display_name for t in world.all_teachers if t.display_name not in own]
    assert not any(name in text for name in others)


def test_no_rater_reaches_the_report_of_an_open_round(app, client, auth, scored_round,
                                                      make_dual_role):
    scored = scored_round()
    world = scored.world
    analyse(app, scored.round_id, world.coach.id)
    rater = make_dual_role(world.teachers[world.schools[0].id][0], world.schools[1])
    auth.login(rater)
    for tail in ("", "/report.json", "/report.xlsx", "/charts/reliability.svg"):
        refused = client.get(url(scored, tail))
        assert refused.status_code == 403, tail
    assert "still open" in client.get(url(scored)).text
    auth.logout()
    auth.login(world.coach)
    assert client.get(url(scored)).status_code == 200
    close(app, scored)
    auth.logout()
    auth.login(rater)
    assert client.get(url(scored)).status_code == 200


def test_exports_are_downloads_without_engine_codes(app, client, auth, reported_round):
    auth.login(reported_round.world.coach)
    svg = client.get(url(reported_round, "/charts/rater-severity.svg"))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Disposition"].startswith("attachment;")
    assert svg.data.lstrip().startswith(b"<svg") and b"<script" not in svg.data
    exported = client.get(url(reported_round, "/report.json"))
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    report = exported.get_json()
    assert report["criteria"] and report["raters"]
    assert not ENGINE_CODE.search(json.dumps(report))
    workbook = load_workbook(io.BytesIO(client.get(url(reported_round, "/report.xlsx")).data))
    assert "Raters" in workbook.sheetnames
    assert client.get(url(reported_round, "/charts/nothing.svg")).status_code == 404


def test_ratings_since_the_run_are_counted_and_a_rerun_offered(app, client, auth,
                                                                scored_round):
    scored = scored_round()
    analyse(app, scored.round_id, scored.world.coach.id)
    revise_a_rating(app, scored.round_id)
    auth.login(scored.world.coach)
    text = client.get(url(scored)).text
    assert re.search(r"\d+ ratings? ha(s|ve) arrived since", text)
    assert "Run the analysis again" in text


def test_a_round_without_a_finished_run_says_so(app, client, auth, scoring_world, open_round):
    world = scoring_world()
    scoring_round = open_round(world)
    auth.login(world.coach)
    page = client.get(f"/reports/rounds/{scoring_round.id}")
    assert page.status_code == 200 and "No finished analysis of this round yet" in page.text
    assert client.get(f"/reports/rounds/{scoring_round.id}/report.json").status_code == 404


def test_the_page_reads_only_the_parts_it_shows_in_a_few_statements(app, client, auth,
                                                                     count_statements,
                                                                     reported_round):
    auth.login(reported_round.world.coach)
    client.get(url(reported_round))     # charts rendered once, kept for the process
    PAGE_CACHE.clear()                  # the page built afresh, as in another process
    with count_statements() as log:
        assert client.get(url(reported_round)).status_code == 200
    parts = [s for s in log.statements if "analysis_run_parts" in s]
    assert len(parts) == 1 and " IN " in parts[0].upper(), log.report()
    assert set(round_report.PAGE_PARTS).isdisjoint({"schools", "equity", "rasch", "bias"})
    assert log.count <= 12, log.report()
    with count_statements() as log:     # the same reader again: the page the process kept
        assert client.get(url(reported_round)).status_code == 200
    assert not [s for s in log.statements if "analysis_run_parts" in s], log.report()


def ratings_csv(client, scored):
    response = client.get(url(scored, "/ratings.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_ratings_export_names_raters_only_for_who_may_know_them(app, client, auth,
                                                                    reported_round):
    # Without the district's setting a coach's file has rater codes drawn for this download
    # and no rater schools: two downloads cannot be joined on a person.
    auth.login(reported_round.world.coach)
    first, second = ratings_csv(client, reported_round), ratings_csv(client, reported_round)
    blind = [row for row in first if row["kind"] == "blind"]
    assert blind and all(row["rater_school"] == "" for row in blind)
    assert not any(ENGINE_CODE.fullmatch(row["rater"]) for row in blind)
    assert {row["rater"] for row in blind}.isdisjoint(
        row["rater"] for row in second if row["kind"] == "blind")
    assert len(first) == len(second)

    # With it a district-wide coach gets the run's own input: stable codes and schools.
    allow_names(app, reported_round)
    named = [row for row in ratings_csv(client, reported_round) if row["kind"] == "blind"]
    assert all(ENGINE_CODE.fullmatch(row["rater"]) and row["rater_school"] for row in named)

    # A district administrator never sees raters one by one, setting or not.
    auth.logout()
    auth.login(reported_round.world.admin)
    admin = [row for row in ratings_csv(client, reported_round) if row["kind"] == "blind"]
    assert not any(ENGINE_CODE.fullmatch(row["rater"]) or row["rater_school"] for row in admin)


def test_a_finding_that_proposes_a_session_sets_it_up_with_its_samples(app, client, auth,
                                                                      reported_round):
    auth.login(reported_round.world.coach)
    text = client.get(url(reported_round)).text
    link = re.search(r'<a class="button secondary" href="([^"]+)">Propose a session', text)
    assert link, "the random scores of the round agree too little: a session is proposed"
    address = html.unescape(link.group(1))
    query = parse_qs(urlparse(address).query)
    assert query["round"] == [str(reported_round.round_id)] and query["sample"]

    form = client.get(address).text
    assert "Moderation after “" in form
    for code in query["sample"]:
        assert re.search(rf'<input checked[^>]*name="sample_ids"[^>]*> {re.escape(code)} ·',
                         form), code
    with app.app_context():
        version = db.session.get(ScoringRound, reported_round.round_id).rubric_version
        version_id, label = version.id, version.label
    assert re.search(rf'<option selected value="{version_id}">', form)
    # The agenda's work is listed under the rubric version it was uploaded for.
    assert f'<h3 class="agenda-rubric">{html.escape(label)} <span' in form


def test_who_may_not_run_sessions_is_not_offered_to_propose_one(app, client, auth,
                                                                 reported_round):
    auth.login(reported_round.world.admin)
    assert "Propose a session" not in client.get(url(reported_round)).text
