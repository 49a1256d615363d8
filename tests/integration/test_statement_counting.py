"""The count_statements fixture that the statement budgets rely on."""

from moderation.accounts.models import User
from moderation.core.extensions import db


def test_counts_each_statement_a_request_sends(client, auth, create_teacher, count_statements):
    teacher = create_teacher()
    auth.login(teacher)
    with count_statements() as log:
        assert client.get("/", follow_redirects=True).status_code == 200
    assert log.count > 0
    assert any("FROM users" in s for s in log.statements), log.report()


def test_leaves_out_savepoints_and_stops_at_the_end_of_the_block(app, create_teacher,
                                                                 count_statements):
    teacher = create_teacher()
    with app.app_context(), count_statements() as log, db.session.begin_nested():
        db.session.execute(db.select(User.id).where(User.id == teacher.id)).all()
    with app.app_context():
        db.session.execute(db.select(User)).all()
    assert log.count == 1, log.report()
    assert log.statements[0].lstrip().startswith("SELECT")


def test_report_numbers_the_statements_for_a_failure_message(app, count_statements):
    with app.app_context(), count_statements() as log:
        db.session.execute(db.select(User.id)).all()
        db.session.execute(db.select(User.email)).all()
    report = log.report()
    assert report.splitlines()[0] == "2 statements:"
    assert "  1. SELECT users.id" in report and "  2. SELECT users.email" in report
