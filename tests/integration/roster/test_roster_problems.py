"""Every kind of bad line is named with its file, line and column, in words, with 422 and
nothing saved: no person, school, link or kept import, and no audit event."""

import pytest

from moderation.accounts.roster import formats
from tests.integration.roster.rosters import (
    BASIC_ROLES,
    BASIC_USERS,
    HEADER,
    ORGS,
    ROLES_HEADER,
    dry_run,
    import_roster,
    oneroster_files,
    oneroster_user,
    own,
    table_counts,
    upload,
    zipped,
)

P = "person,P1,Ann Lee,ann@x.example,teacher,S1,,"

OWN_CASES = {
    "missing email": (own("person,P1,Ann Lee,,teacher,S1,,"), 4, "email",
                      "The email is missing."),
    "malformed email": (own("person,P1,Ann Lee,ann-at-x,teacher,S1,,"), 4, "email",
                        "“ann-at-x” is not an email address"),
    "duplicate person id": (own(P, "person,P1,Bob Ray,bob@x.example,teacher,S1,,"), 5,
                            "source_id", "The person id P1 is already used on line 4"),
    "duplicate school id": (own("school,S1,East School,,,,,"), 4, "source_id",
                            "The school id S1 is already used on line 2."),
    "same email twice": (own(P, "person,P2,Ann Other,ann@x.example,teacher,S2,,"), 5, "email",
                         "The email ann@x.example is also Ann Lee's (line 4)"),
    "unknown role": (own("person,P1,Ann Lee,ann@x.example,janitor,S1,,"), 4, "role",
                     "“janitor” is not a role"),
    "missing role": (own("person,P1,Ann Lee,ann@x.example,,S1,,"), 4, "role",
                     "The role is missing"),
    "school not in file or district": (own("person,P1,Ann Lee,ann@x.example,teacher,S9,,"),
                                       4, "school", "The school id S9 is neither in the file"),
    "teacher without a school": (own("person,P1,Ann Lee,ann@x.example,teacher,,,"), 4,
                                 "school", "A teacher belongs to a school"),
    "school leader without a school": (own("person,P1,Ann Lee,ann@x.example,school_leader,,,"),
                                       4, "school", "A school leader belongs to a school"),
    "district admin at a school": (own("person,P1,Ann Lee,ann@x.example,district_admin,S1,,"),
                                   4, "school", "A district administrator works district-wide"),
    "unknown kind": (own("teacher,P1,Ann Lee,ann@x.example,teacher,S1,,"), 4, "kind",
                     "The kind must be school or person"),
    "missing name": (own("person,P1,,ann@x.example,teacher,S1,,"), 4, "name",
                     "The person's name is missing."),
    "missing school name": (own("school,S3,,,,,,"), 4, "name", "The school's name is missing."),
    "missing source id": (own("person,,Ann Lee,ann@x.example,teacher,S1,,"), 4, "source_id",
                          "The id is missing."),
    "bad status": (own("person,P1,Ann Lee,ann@x.example,teacher,S1,,gone"), 4, "status",
                   "The status must be active or inactive"),
    "too many values": (own("person,P1,Lee, Ann,ann@x.example,teacher,S1,,"), 4, None,
                        "is there an unquoted comma?"),
    "repeated role": (own(P, P), 5, None, "This role repeats line 4."),
    "two schools of one name": (own("school,S3,North School,,,,,"), 4, "name",
                                "Two schools are called North School"),
    "missing column": (b"kind,source_id,name,role,school\nperson,P1,Ann,teacher,S1\n", 1, None,
                       "missing: email"),
    "unknown column": (HEADER.replace("status", "emial").encode() + b"school,S1,A,,,,,\n", 1,
                       None, "Unknown columns: emial"),
    "empty file": (b"", None, None, "The file is empty."),
    "only blank lines": (b"\n \n", None, None, "The file is empty."),
    "not UTF-8": (HEADER.encode() + "school,S1,École Nord,,,,,\n".encode("latin-1"), 2, None,
                  "The file is not saved as UTF-8"),
    "binary": (b"kind,source_id\x00\x01\x02", None, None, "binary data"),
}


@pytest.mark.parametrize("case", sorted(OWN_CASES))
def test_each_bad_line_of_the_own_format_is_named_and_nothing_is_saved(admin, app, case):
    data, line, column, message = OWN_CASES[case]
    before = table_counts(app)
    response = upload(admin, {"roster.csv": data})
    assert response.status_code == 422
    text = response.text.replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')
    assert "Problems in the roster" in text and "nothing was saved" in text
    assert message in text, text[text.find("Problems"):][:2000]
    row = (f'<td data-label="Line">{line or ""}</td>'
           f'<td data-label="Column">{column or ""}</td>')
    assert row in text
    assert table_counts(app) == before


ONEROSTER_CASES = {
    "missing roles.csv": ({k: v for k, v in oneroster_files(BASIC_USERS, BASIC_ROLES).items()
                           if k != "roles.csv"}, "roles.csv", None, None,
                          "roles.csv is missing"),
    "unknown role": (oneroster_files(BASIC_USERS, BASIC_ROLES + "R9,active,,U1,secondary,"
                                     "wizard,,,O1,\n"), "roles.csv", 9, "role",
                     "“wizard” is not a OneRoster 1.2 role."),
    "org not in orgs.csv": (oneroster_files(BASIC_USERS, BASIC_ROLES.replace(
        "U1,primary,teacher,,,O1", "U1,primary,teacher,,,O7")), "roles.csv", 2, "orgSourcedId",
        "The org id O7 is not in orgs.csv."),
    "user not in users.csv": (oneroster_files(BASIC_USERS, BASIC_ROLES + "R9,active,,U99,"
                                              "primary,teacher,,,O1,\n"), "roles.csv", 9,
                              "userSourcedId", "The user id U99 is not in users.csv."),
    "teacher at the district org": (oneroster_files(BASIC_USERS, BASIC_ROLES.replace(
        "U1,primary,teacher,,,O1", "U1,primary,teacher,,,D1")), "roles.csv", 2, "orgSourcedId",
        "A teacher belongs to a school, but D1 is a district"),
    "teacher without an email": (oneroster_files(BASIC_USERS.replace(
        "tia@lake.example,,Tia", ",,Tia").replace(",tia@lake.example,,,", ",,,,"), BASIC_ROLES),
        "users.csv", 2, "email", "The email is missing."),
    "bad enabledUser": (oneroster_files(BASIC_USERS.replace("active,2026-08-01,true,tia",
                                                            "active,2026-08-01,maybe,tia"),
                                        BASIC_ROLES), "users.csv", 2, "enabledUser",
                        "enabledUser must be true or false"),
    "duplicate user id": (oneroster_files(BASIC_USERS + oneroster_user(
        "U1", "Tia", "Again", "tia2@lake.example"), BASIC_ROLES), "users.csv", 9, "sourcedId",
        "The user id U1 is already used on line 2."),
    "duplicate org id": (oneroster_files(BASIC_USERS, BASIC_ROLES, ORGS + "O1,active,,Dup,"
                                         "school,,D1\n"), "orgs.csv", 5, "sourcedId",
                         "The org id O1 is already used on line 3."),
    "users.csv without email column": (
        {**oneroster_files(BASIC_USERS, BASIC_ROLES),
         "users.csv": b"sourcedId,status,enabledUser,username,givenName,familyName\n"},
        "users.csv", 1, None, "missing: email"),
    "same email twice": (oneroster_files(BASIC_USERS.replace("raj@lake.example",
                                                             "tia@lake.example"), BASIC_ROLES),
                         "users.csv", 3, "email", "The email tia@lake.example is also"),
    "header in lower case": ({**oneroster_files(BASIC_USERS, BASIC_ROLES),
                              "roles.csv": (ROLES_HEADER.lower() + "R1,active,,U1,primary,"
                                            "teacher,,,O1,\n").encode()},
                             "roles.csv", 1, None, "missing: sourcedId"),
}


@pytest.mark.parametrize("case", sorted(ONEROSTER_CASES))
def test_each_bad_line_of_oneroster_is_named_and_nothing_is_saved(admin, app, case):
    files, file, line, column, message = ONEROSTER_CASES[case]
    before = table_counts(app)
    response = upload(admin, files)
    assert response.status_code == 422
    assert message in response.text, response.text[response.text.find("Problems"):][:2000]
    assert (f'<td data-label="File">{file}</td><td data-label="Line">{line or ""}</td>'
            f'<td data-label="Column">{column or ""}</td>') in response.text
    assert table_counts(app) == before


def test_a_utf8_byte_order_mark_is_accepted(admin):
    page, _ = dry_run(admin, {"r.csv": "\ufeff".encode() + own(P)})
    assert "<dt>People to create</dt><dd>1</dd>" in page.text


def test_a_too_large_file_is_refused(admin, app, monkeypatch):
    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 1000)
    response = upload(admin, {"r.csv": own(*[f"person,P{i},N {i},p{i}@x.example,teacher,S1,,"
                                             for i in range(40)])})
    assert response.status_code == 422
    assert "The file is larger than" in response.text


def test_a_zip_that_cannot_be_opened_is_refused(admin):
    response = upload(admin, {"export.zip": b"PK\x03\x04broken"})
    assert response.status_code == 422
    assert "This is not a zip file that can be opened." in response.text


def test_a_zip_bomb_is_refused_before_it_is_unpacked(admin, monkeypatch):
    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 10_000)
    response = upload(admin, {"export.zip": zipped({"users.csv": b"0" * 50_000})})
    assert response.status_code == 422 and "The file is larger than" in response.text


def test_two_csv_files_that_are_not_oneroster_are_refused(admin):
    response = upload(admin, {"a.csv": own(P), "b.csv": own(P)})
    assert response.status_code == 422
    assert "Upload one CSV file in the platform" in response.text.replace("&#39;", "'")


def test_no_file_chosen(admin):
    response = upload(admin, {})
    assert response.status_code == 422 and "Choose the roster file to upload." in response.text


def test_every_problem_is_listed_at_once(admin):
    rows = [f"person,P{i},N {i},bad-email-{i},teacher,S1,," for i in range(250)]
    response = upload(admin, {"r.csv": own(*rows)})
    assert response.status_code == 422
    assert "250 problems" in response.text and "… and 50 more problems." in response.text


# --- problems found against the database -------------------------------------------------------

def test_an_email_of_someone_imported_under_another_id(admin, app):
    import_roster(admin, {"r.csv": own(P)})
    response = upload(admin, {"r.csv": own("person,P2,Ann Lee,ann@x.example,teacher,S1,,")})
    assert response.status_code == 422
    assert "ann@x.example is Ann Lee&#39;s, who came from the roster with the id P1, not P2" \
        in response.text


def test_an_email_change_to_someone_elses_email(admin, app, create_teacher):
    other = create_teacher(name="Zed Other")
    import_roster(admin, {"r.csv": own(P)})
    response = upload(admin, {"r.csv": own(
        f"person,P1,Ann Lee,{other.email},teacher,S1,,")})
    assert response.status_code == 422
    assert f"{other.email} is already Zed Other&#39;s email." in response.text


def test_a_school_name_of_a_school_imported_under_another_id(admin, app):
    import_roster(admin, {"r.csv": own(P)})
    response = upload(admin, {"r.csv": (HEADER + "school,S7,North School,,,,,\n").encode()})
    assert response.status_code == 422
    assert "North School came from the roster with the id S1, not S7." in response.text


def test_a_roster_without_people_would_deactivate_everyone_and_is_refused(admin, app):
    import_roster(admin, {"r.csv": own(P)})
    response = upload(admin, {"r.csv": own()})
    assert response.status_code == 422
    assert "The roster lists no people: importing it would deactivate all 1 people" \
        in response.text


def test_lines_refused_by_the_file_and_by_the_database_are_listed_together(admin, app):
    import_roster(admin, {"r.csv": own(P)})
    response = upload(admin, {"r.csv": own("person,P2,Ann Lee,ann@x.example,teacher,S1,,",
                                           "person,P3,No Mail,,teacher,S1,,")})
    assert response.status_code == 422
    assert "2 problems" in response.text
    assert "The email is missing." in response.text and "came from the roster with the id P1" \
        in response.text
