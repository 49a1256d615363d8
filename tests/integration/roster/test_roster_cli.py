"""`flask roster import`: the same plan and problems as the page, from the command line."""

from moderation.accounts.roster.models import RosterImport
from moderation.core.extensions import db
from tests.integration.roster.rosters import (
    BASIC_ROLES,
    BASIC_USERS,
    SAMPLE,
    actions,
    oneroster_files,
    own,
    people_of,
    table_counts,
)


def test_dry_run_prints_the_plan_and_changes_nothing(app, runner, create_district):
    district = create_district("Lake District")
    before = table_counts(app)
    result = runner.invoke(args=["roster", "import", str(SAMPLE), "--district", "Lake District",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Schools: 2 to create" in result.output
    assert "People: 10 to create" in result.output and "Ana Lopez <ana.lopez@harborview.example>" \
        in result.output
    assert "Dry run: nothing was changed." in result.output
    assert table_counts(app) == before
    assert not people_of(app, district.id)


def test_import_applies_and_a_second_import_changes_nothing(app, runner, create_district,
                                                            tmp_path):
    district = create_district("Lake District")
    for name, data in oneroster_files(BASIC_USERS, BASIC_ROLES).items():
        (tmp_path / name).write_bytes(data)
    files = [str(tmp_path / n) for n in ("orgs.csv", "users.csv", "roles.csv")]
    result = runner.invoke(args=["roster", "import", *files, "--district", "Lake District"])
    assert result.exit_code == 0, result.output
    assert "Applied." in result.output
    assert set(people_of(app, district.id)) == {"tia@lake.example", "raj@lake.example",
                                                "pat@lake.example", "dee@lake.example"}
    assert actions(app).count("roster_imported") == 1
    with app.app_context():
        kept = db.session.execute(db.select(RosterImport)).scalar_one()
        assert kept.uploaded_by_id is None and kept.format == "oneroster"
    again = runner.invoke(args=["roster", "import", *files, "--district", "Lake District"])
    assert again.exit_code == 0
    assert "People: 0 to create, 0 to change (0 linked by email), 0 to deactivate, 4 unchanged" \
        in again.output


def test_problems_are_printed_with_their_lines_and_nothing_is_saved(app, runner,
                                                                    create_district, tmp_path):
    create_district("Lake District")
    path = tmp_path / "roster.csv"
    path.write_bytes(own("person,P1,Ann Lee,,teacher,S1,,", "person,P2,Bo,bo@x.example,chef,S1,,"))
    before = table_counts(app)
    result = runner.invoke(args=["roster", "import", str(path), "--district", "Lake District"])
    assert result.exit_code == 2
    assert "roster.csv, line 4, column email: The email is missing." in result.output
    assert "roster.csv, line 5, column role: “chef” is not a role" in result.output
    assert "2 problems; nothing was saved." in result.output
    assert table_counts(app) == before


def test_an_unknown_district_is_named(runner):
    result = runner.invoke(args=["roster", "import", str(SAMPLE), "--district", "Nowhere"])
    assert result.exit_code != 0 and "There is no district called “Nowhere”." in result.output
