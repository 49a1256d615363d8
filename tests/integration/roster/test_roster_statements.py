"""The dry run and the apply read and write in a fixed number of statements, whatever the
roster's size: ten times the people costs no extra statement (what keeps a 3,000-teacher
roster within seconds; benchmarks/roster_import.py measures it on PostgreSQL)."""

from tests.integration.roster.rosters import apply as apply_page
from tests.integration.roster.rosters import dry_run, own


def _roster(size: int, offset: int = 0) -> bytes:
    return own(*[f"person,P{offset + i},Person {offset + i},p{offset + i}@x.example,teacher,"
                 f"S{1 + i % 2},," for i in range(size)])


def _statements(admin, count_statements, files) -> tuple[int, int]:
    with count_statements() as planning:
        page, import_id = dry_run(admin, files)
    with count_statements() as applying:
        assert apply_page(admin, import_id, page.text).status_code == 302
    return planning.count, applying.count


def test_a_first_import_costs_the_same_statements_for_ten_or_a_hundred_people(
        app, admin, count_statements, create_district_admin, client, auth):
    small = _statements(admin, count_statements, {"r.csv": _roster(10)})
    other = create_district_admin(name="Other Admin")
    auth.logout()
    auth.login(other)
    admin.district_id = other.memberships[0].district_id
    large = _statements(admin, count_statements, {"r.csv": _roster(100, offset=1000)})
    assert large == small, (small, large)


def test_a_second_import_of_the_same_roster_reads_in_the_same_few_statements(
        admin, count_statements):
    _statements(admin, count_statements, {"r.csv": _roster(10)})
    with count_statements() as small:
        dry_run(admin, {"r.csv": _roster(10)})
    _statements(admin, count_statements, {"r.csv": _roster(100)})
    with count_statements() as large:
        dry_run(admin, {"r.csv": _roster(100)})
    assert large.count == small.count, large.report()
