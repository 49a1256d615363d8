"""A school leader (a principal) reads their own school's work and nothing more."""

from moderation.accounts.models import Role


def test_a_school_leader_reads_their_schools_work_read_only(
        client, auth, create_user, create_school, create_sample, create_teacher):
    school = create_school(name="Hillcrest Elementary")
    elsewhere = create_school(school.district_id, name="Lakeview Middle")
    teacher = create_teacher(school=school)
    ours = create_sample(school=school, uploader=teacher, kind="text", ready=True,
                         student_name="Jane Student")
    theirs = create_sample(school=elsewhere, kind="text", ready=True)
    leader = create_user(Role.SCHOOL_LEADER, school=school, name="Rosa Grant")
    response = auth.login(leader)
    assert response.headers["Location"] == "/"
    home = client.get("/", follow_redirects=True)
    assert "Our school&#39;s work" in home.text  # the menu
    assert ours.code in home.text and theirs.code not in home.text
    assert "Upload a work sample" not in home.text

    page = client.get(f"/samples/{ours.code}")
    assert page.status_code == 200 and "Jane Student" not in page.text
    assert client.get(f"/samples/{theirs.code}").status_code in (403, 404)
    for refused in (f"/samples/{ours.code}/identity", f"/samples/{ours.code}/download",
                    "/samples/new", "/scoring/rounds", "/scoring/queue", "/coach"):
        assert client.get(refused).status_code == 403, refused
