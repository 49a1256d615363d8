"""The roster formats read as plain functions: bytes in, records and problems out."""

import io
import zipfile

from moderation.accounts import people
from moderation.accounts.models import Role
from moderation.accounts.roster import formats

HEADER = "kind,source_id,name,email,role,school\n"


def test_the_email_check_is_the_people_pages_own():
    assert formats.EMAIL_PATTERN.pattern == people.EMAIL_PATTERN.pattern


def test_line_numbers_count_lines_of_the_file_not_rows():
    text = (HEADER + "school,S1,\"North\nSchool\",,,\n\n"
            "person,P1,Ann Lee,ANN@X.EXAMPLE,Teacher,S1\n")
    roster = formats.read_own("r.csv", text)
    assert not roster.problems
    assert roster.schools[0].name == "North School" and roster.schools[0].where.line == 3
    person = roster.people[0]
    assert person.where.line == 5 and person.email == "ann@x.example"
    assert [(r.role, r.school_source_id) for r in person.roles] == [(Role.TEACHER, "S1")]


def test_a_person_with_two_roles_has_two_rows():
    roster = formats.read_own("r.csv", HEADER + "person,P1,Ann,a@x.example,teacher,S1\n"
                              "person,P1,Ann,a@x.example,coach,\n")
    assert not roster.problems
    assert [(r.role, r.school_source_id) for r in roster.people[0].roles] == [
        (Role.TEACHER, "S1"), (Role.COACH, None)]


def test_a_zip_in_a_folder_is_read_by_base_names_and_its_other_files_left_alone():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/orgs.csv", "sourcedId,status,name,type\n")
        archive.writestr("export/users.csv", "x")
        archive.writestr("export/roles.csv", "x")
        archive.writestr("export/manifest.csv", "propertyName,value\n")
        archive.writestr("export/", "")
    files, problems = formats.unpack([("sis.zip", buffer.getvalue())])
    assert not problems
    assert set(files) == {"orgs.csv", "users.csv", "roles.csv", "manifest.csv"}


def test_utf8_with_a_byte_order_mark_decodes_and_latin1_names_its_line():
    assert formats.decode("r.csv", "\ufeffkind".encode())[0] == "kind"
    text, problem = formats.decode("r.csv", b"kind\nok\n\xe9cole\n")
    assert text is None and problem.line == 3 and "UTF-8" in problem.message


def test_oneroster_roles_map_by_the_org_they_are_at():
    files = {
        "orgs.csv": "sourcedId,status,name,type\nD,active,Dist,district\nS,active,Sch,school\n",
        "users.csv": ("sourcedId,status,enabledUser,username,givenName,familyName,email\n"
                      "1,active,true,a@x.example,A,One,\n"
                      "2,active,true,b@x.example,B,Two,b@x.example\n"
                      "3,active,false,c@x.example,C,Three,c@x.example\n"),
        "roles.csv": ("sourcedId,status,userSourcedId,roleType,role,orgSourcedId\n"
                      "r1,active,1,primary,administrator,S\n"
                      "r2,active,2,primary,administrator,D\n"
                      "r3,active,3,primary,teacher,S\n"
                      "r4,tobedeleted,3,secondary,principal,S\n")}
    roster = formats.read_oneroster(files)
    assert not roster.problems
    by_id = {p.source_id: p for p in roster.people}
    assert by_id["1"].email == "a@x.example"  # the username, without an email
    assert [(r.role, r.school_source_id) for r in by_id["1"].roles] == [(Role.SCHOOL_LEADER, "S")]
    assert [(r.role, r.school_source_id) for r in by_id["2"].roles] == [(Role.DISTRICT_ADMIN, None)]
    assert not by_id["3"].active and len(by_id["3"].roles) == 1
    assert [s.source_id for s in roster.schools] == ["S"]


def test_problems_read_as_file_line_column_and_words():
    problem = formats.Problem("users.csv", 7, "email", "The email is missing.")
    assert str(problem) == "users.csv, line 7, column email: The email is missing."
