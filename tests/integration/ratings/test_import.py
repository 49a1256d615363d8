"""`flask ratings import`: a past moderation's spreadsheet becomes a closed historical round,
or, with one bad line, nothing at all. Run with DATABASE_URL set to PostgreSQL too: the ratings
go in by COPY there, by executemany on SQLite."""

import csv
import re
from datetime import datetime

import pytest
from openpyxl import Workbook

from moderation.accounts import audit_text, tokens
from moderation.accounts.models import Membership, Role, School, User
from moderation.accounts.people import PLACEHOLDER_DOMAIN
from moderation.analysis.inputs import round_ratings
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, WorkSample
from moderation.scoring import queries as scoring_queries
from moderation.scoring.models import RoundStatus, ScoringRound
from tests.conftest import PASSWORD, csrf_token_from

HEADER = ["rater", "sample", "criterion", "score", "scored_at", "rater_school",
          "sample_school", "kind"]
# Two raters from Roosevelt score two Lincoln samples blind; the class teacher scores her own
# students' work (local); sample P1 is an anchor with agreed (reference) scores.
GOOD_ROWS = [
    ["ann@roosevelt.org", "S1", "Claim", "3", "2025-03-01T10:00:00", "Roosevelt High",
     "Lincoln High", "blind"],
    ["ann@roosevelt.org", "S1", "Evidence", "3.0", "2025-03-01T10:00:00", "Roosevelt High",
     "Lincoln High", "blind"],
    ["T-0042", "S1", "Claim", "2", "2025-03-02T09:00:00", "Roosevelt High", "Lincoln High",
     "blind"],
    ["T-0042", "S2", "Evidence", "4", "2025-03-02T09:30:00", "Roosevelt High", "Lincoln High",
     "blind"],
    ["cara@lincoln.org", "S1", "Claim", "4", "", "Lincoln High", "Lincoln High", "local"],
    ["cara@lincoln.org", "S2", "Claim", "3", "", "Lincoln High", "Lincoln High", "local"],
    ["", "P1", "Claim", "2", "", "", "Lincoln High", "reference"],
    ["", "P1", "Evidence", "3", "", "", "Lincoln High", "reference"],
    ["ann@roosevelt.org", "P1", "Claim", "2", "2025-03-01T11:00:00", "Roosevelt High",
     "Lincoln High", "blind"],
]


@pytest.fixture
def district(app, create_district, create_school, create_rubric):
    district = create_district()
    create_school(district, "Lincoln High")
    create_school(district, "Roosevelt High")
    version = create_rubric(district, criteria=3, title="Argument Writing")
    return district, version


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_import(runner, district, path, name="Spring 2025 moderation", *extra):
    return runner.invoke(args=["ratings", "import", str(path), "--district", district.name,
                               "--rubric", "Argument Writing", "--name", name, *extra])


def counts(district_id: int) -> dict:
    def count(model, *where):
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))

    return {"rounds": count(ScoringRound, ScoringRound.district_id == district_id),
            "ratings": count(Rating), "samples": count(WorkSample), "anchors": count(Anchor),
            "users": count(User),
            "schools": count(School, School.district_id == district_id)}


def test_a_file_becomes_a_closed_historical_round(app, runner, district, tmp_path):
    district, version = district
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS))
    assert result.exit_code == 0, result.output
    round_id = int(result.output.strip().splitlines()[-1])
    with app.app_context():
        scoring_round = db.session.get(ScoringRound, round_id)
        assert (scoring_round.status, scoring_round.is_historical) == (RoundStatus.CLOSED, True)
        assert scoring_round.source_file == "spring.csv"
        assert scoring_round.status_label == "Imported"
        ratings = db.session.execute(db.select(Rating).where(
            Rating.context_type == "round", Rating.context_id == round_id)).scalars().all()
        assert len(ratings) == 7
        assert sum(r.kind == RatingKind.LOCAL for r in ratings) == 2
        assert {r.score for r in ratings if r.kind == RatingKind.BLIND} == {2, 3, 4}
        first = min((r for r in ratings if r.kind == RatingKind.BLIND),
                    key=lambda r: r.submitted_at)
        # SQLite hands times back without their zone; they are UTC.
        assert first.submitted_at.replace(tzinfo=None) == datetime(2025, 3, 1, 10)
        assert scoring_round.opened_at.replace(tzinfo=None) == datetime(2025, 3, 1, 10)
        samples = db.session.execute(db.select(WorkSample)).scalars().all()
        assert sorted(s.external_label for s in samples) == ["P1", "S1", "S2"]
        assert all(s.is_external and s.is_archived and not s.pages for s in samples)
        anchor = db.session.execute(db.select(Anchor)).scalar_one()
        assert anchor.sample.external_label == "P1"
        assert sorted(s.score for s in anchor.scores) == [2, 3]
        people = {u.email: u for u in db.session.execute(db.select(User)).scalars()}
        coded = people[f"t-0042.d{district.id}@{PLACEHOLDER_DOMAIN}"]
        assert coded.display_name == "T-0042" and coded.password_hash is None
        assert "Enter their address first" in tokens.invitable(coded)
        assert tokens.invitable(people["ann@roosevelt.org"]) is None
        cara = people["cara@lincoln.org"]
        assert [(m.role, m.school.name) for m in cara.memberships] == [
            (Role.TEACHER, "Lincoln High")]
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "ratings_imported")).scalar_one()
        assert event.details["ratings"] == 7 and event.details["new_raters"] == 3
    assert "7 ratings (2 local) by 3 raters (3 new), 3 samples, 1 anchor papers" in result.output


def test_the_audit_log_says_in_words_what_came_in(app, runner, district, tmp_path):
    district, _ = district
    assert run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS)
                      ).exit_code == 0
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action.in_(
            ["ratings_imported", "rater_imported"])).order_by(AuditEvent.id)).scalars().all()
        said = {row.action: row.details for row in audit_text.rows(events)}
    assert said["ratings_imported"] == (
        "Imported a past moderation “Spring 2025 moderation” from spring.csv on Argument "
        "Writing (version 1): 7 ratings (2 local scores) by 3 raters (3 new), 3 samples, "
        "1 anchor paper.")
    assert "as a teacher at " in said["rater_imported"]
    assert "not yet invited" in said["rater_imported"]


def test_existing_raters_are_matched_by_email(app, runner, district, create_teacher, tmp_path):
    district, _ = district
    with app.app_context():
        roosevelt = db.session.execute(db.select(School).where(
            School.name == "Roosevelt High")).scalar_one()
    ann = create_teacher(roosevelt)
    rows = [[ann.email.upper() if c == "ann@roosevelt.org" else c for c in row]
            for row in GOOD_ROWS]
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", rows))
    assert result.exit_code == 0, result.output
    assert "(2 new)" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Rating).where(
            Rating.rater_id == ann.id)) == 3


def test_one_address_in_two_spellings_is_one_new_rater(app, runner, district, tmp_path):
    district, _ = district
    rows = [list(row) for row in GOOD_ROWS]
    rows[1][0] = "Ann@Roosevelt.org"
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", rows))
    assert result.exit_code == 0, result.output
    assert "by 3 raters (3 new)" in result.output


def test_a_file_of_only_a_header_is_refused(app, runner, district, tmp_path):
    district, _ = district
    result = run_import(runner, district, write_csv(tmp_path / "empty.csv", []))
    assert result.exit_code == 2
    assert "empty.csv: the file has a header but no ratings; nothing was saved." in result.output


def _bad(rows, line, value, column="score"):
    """GOOD_ROWS with `column` of file line `line` (the header is line 1) set to `value`."""
    changed = [list(row) for row in rows]
    changed[line - 2][HEADER.index(column)] = value
    return changed


@pytest.mark.parametrize(("rows", "header", "message"), [
    (_bad(GOOD_ROWS, 4, "5"), HEADER,
     "line 4: score 5 is not a level: criterion 'Claim' in rubric 'Argument Writing' version 1 "
     "has levels 1, 2, 3, 4"),
    (_bad(GOOD_ROWS, 5, "Evidense", "criterion"), HEADER,
     "line 5: criterion 'Evidense' is not in rubric 'Argument Writing' version 1"),
    (_bad(GOOD_ROWS, 3, "Lincon High", "sample_school"), HEADER,
     "line 3: {district} has no school called 'Lincon High'; did you mean 'Lincoln High'?"),
    (_bad(_bad(GOOD_ROWS, 5, "Lincon High", "sample_school"), 2, "Rosevelt High",
          "rater_school"), HEADER,
     "line 2: {district} has no school called 'Rosevelt High'; did you mean 'Roosevelt High'?"),
    (_bad(GOOD_ROWS, 6, "", "rater"), HEADER,
     "line 6: the rater is missing (only reference rows may have no rater)"),
    (GOOD_ROWS + [GOOD_ROWS[0]], HEADER,
     "line 11: duplicate rating: rater 'ann@roosevelt.org' already gave a blind score to "
     "sample 'S1' on criterion 'Claim' (line 2)"),
    ([row[:3] + row[4:] for row in GOOD_ROWS], HEADER[:3] + HEADER[4:],
     "line 1: missing column 'score'"),
    (_bad(GOOD_ROWS, 8, "", "sample_school") + [["", "P2", "Claim", "1", "", "", "", "reference"]],
     HEADER, "line 11: sample 'P2' has no sample_school on any line"),
    (_bad(GOOD_ROWS, 3, "Roosevelt High", "sample_school"), HEADER,
     "line 3: sample 'S1' is from 'Roosevelt High' here but from 'Lincoln High'"),
    ([row[:5] + [""] + row[6:] if row[0] == "T-0042" else row for row in GOOD_ROWS], HEADER,
     "line 4: rater 'T-0042' is new to {district} and has no rater_school on any line"),
    (_bad(GOOD_ROWS, 2, "ann@", "rater"), HEADER, "line 2: rater 'ann@' is not an email"),
])
def test_one_bad_line_is_named_and_nothing_is_saved(app, runner, district, tmp_path, rows,
                                                     header, message):
    district, _ = district
    with app.app_context():
        before = counts(district.id)
    result = run_import(runner, district, write_csv(tmp_path / "bad.csv", rows, header))
    assert result.exit_code == 2, result.output
    assert message.format(district=district.name) in result.output
    assert "nothing was saved" in result.output
    with app.app_context():
        assert counts(district.id) == before


def test_create_schools_creates_the_unknown_ones_on_purpose(app, runner, district, tmp_path):
    district, _ = district
    rows = [[("Washington Middle" if cell == "Roosevelt High" else cell) for cell in row]
            for row in GOOD_ROWS]
    path = write_csv(tmp_path / "spring.csv", rows)
    refused = run_import(runner, district, path)
    assert refused.exit_code == 2 and "--create-schools" in refused.output
    result = run_import(runner, district, path, "Spring 2025 moderation", "--create-schools")
    assert result.exit_code == 0, result.output
    assert "New schools: Washington Middle." in result.output
    with app.app_context():
        assert counts(district.id)["schools"] == 3


def test_the_same_name_is_refused_the_second_time(app, runner, district, tmp_path):
    district, _ = district
    path = write_csv(tmp_path / "spring.csv", GOOD_ROWS)
    assert run_import(runner, district, path).exit_code == 0
    with app.app_context():
        before = counts(district.id)
    again = run_import(runner, district, path)
    assert again.exit_code == 2
    assert "already has a round called “Spring 2025 moderation”" in again.output
    with app.app_context():
        assert counts(district.id) == before
    # Under another name the same raters are found again, not created twice.
    other = run_import(runner, district, path, "Spring 2025, second look")
    assert other.exit_code == 0 and "(0 new)" in other.output


def test_an_xlsx_workbook_imports_like_its_csv(app, runner, district, tmp_path):
    district, _ = district
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in GOOD_ROWS:
        # A spreadsheet stores scores as numbers: 3 arrives as the float 3.0.
        sheet.append([float(c) if i == 3 else c for i, c in enumerate(row)])
    workbook.save(tmp_path / "spring.xlsx")
    result = run_import(runner, district, tmp_path / "spring.xlsx")
    assert result.exit_code == 0, result.output
    assert "7 ratings (2 local)" in result.output


def test_a_bad_line_of_a_workbook_is_named_by_its_row(app, runner, district, tmp_path):
    district, _ = district
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in _bad(GOOD_ROWS, 7, "7"):
        sheet.append(row)
    workbook.save(tmp_path / "spring.xlsx")
    result = run_import(runner, district, tmp_path / "spring.xlsx")
    assert result.exit_code == 2
    assert "line 7: score 7 is not a level" in result.output


def test_a_historical_round_is_in_no_teachers_queue(app, runner, district, tmp_path, client,
                                                    auth):
    district, _ = district
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS))
    assert result.exit_code == 0, result.output
    with app.app_context():
        raters = db.session.execute(db.select(User).join(Membership).where(
            Membership.district_id == district.id)).scalars().all()
        assert raters
        for rater in raters:
            assert scoring_queries.queue_items_for(rater) == []
            assert scoring_queries.next_item(rater) is None
        samples = db.session.execute(db.select(WorkSample.code)).scalars().all()
        ann = db.session.execute(db.select(User).where(
            User.email == "ann@roosevelt.org")).scalar_one()
        ann.set_password(PASSWORD)
        db.session.commit()
    auth.login("ann@roosevelt.org")
    assert "Nothing is assigned to you." in client.get("/scoring/queue").get_data(as_text=True)
    # Its samples have no page to show, whoever asks.
    for code in samples:
        assert client.get(f"/samples/{code}").status_code == 404
        assert client.get(f"/samples/{code}/image").status_code == 404


def test_the_round_list_shows_it_as_imported(app, runner, district, tmp_path, client, auth,
                                             create_district_admin):
    district, _ = district
    admin = create_district_admin(district)
    assert run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS)
                      ).exit_code == 0
    auth.login(admin.email)
    page = client.get("/scoring/rounds").get_data(as_text=True)
    assert "Spring 2025 moderation" in page and "Imported" in page and "spring.csv" in page
    with app.app_context():
        round_id = db.session.execute(db.select(ScoringRound.id)).scalar_one()
    shown = client.get(f"/scoring/rounds/{round_id}")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "a past moderation imported from spring.csv" in text
    assert "5 blind ratings and 2 class teachers' own scores of 3 samples, by 3 raters" in text
    assert "Close the round" not in text


def test_the_historical_round_feeds_its_analysis_input(app, runner, district, tmp_path):
    district, _ = district
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS))
    with app.app_context():
        table = round_ratings(int(result.output.split()[-1]))
    kinds = list(table["kind"])
    assert kinds.count("blind") == 5 and kinds.count("local") == 2
    assert kinds.count("reference") == 2
    # Each rater counts at the school the file gives them, as a live round's pool does.
    assert table.loc[table["kind"] == "blind", "rater_school"].notna().all()


def test_the_historical_round_page_offers_its_analysis_and_then_its_report(
        app, runner, district, tmp_path, client, auth, create_district_admin):
    district, _ = district
    admin = create_district_admin(district)
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS))
    round_id = int(result.output.split()[-1])
    auth.login(admin.email)
    page = client.get(f"/scoring/rounds/{round_id}").get_data(as_text=True)
    assert "No analysis yet." in page and "Run the analysis" in page

    client.post(f"/analysis/rounds/{round_id}/runs", data={"csrf_token": csrf_token_from(page)})
    app.extensions["jobs"].drain()  # the tests' queue runs nothing by itself
    page = client.get(f"/scoring/rounds/{round_id}").get_data(as_text=True)
    assert "Results as of <strong>9 ratings</strong>" in page
    assert f'href="/reports/rounds/{round_id}"' in page


def test_a_session_proposed_on_an_imported_rounds_samples_says_they_have_no_work(
        app, runner, district, tmp_path, client, auth, create_coach):
    district, version = district
    coach = create_coach(district=district)
    result = run_import(runner, district, write_csv(tmp_path / "spring.csv", GOOD_ROWS))
    round_id = int(result.output.split()[-1])
    auth.login(coach.email)
    page = client.get(f"/sessions/new?round={round_id}&sample=S1&sample=S2").get_data(
        as_text=True)
    assert ("2 of the 2 proposed samples cannot go on an agenda (S1, S2): they have no work "
            "to show") in page
    assert f'<option selected value="{version.id}">' in page
    assert not re.search(r'<input checked[^>]*name="sample_ids"', page)
