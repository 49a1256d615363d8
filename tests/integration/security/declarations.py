"""Who may use each endpoint: one declaration per endpoint, for the access matrix (which checks
every cell against it) and the fuzzer (which sends most of its requests as someone allowed).
The people and objects are those of tests/fixtures/world.py."""

from dataclasses import dataclass

from tests.fixtures.world import (
    ANONYMOUS,
    COACH_A,
    COACH_B,
    DISTRICT_ADMIN,
    DISTRICT_COACH,
    DUAL,
    LEADER_A,
    OTHER_ADMIN,
    OTHER_COACH,
    OTHER_TEACHER,
    TEACHER_A,
    TEACHER_B,
    USERS,
)

ANONYMOUS_HTMX = "anonymous (htmx)"
ROLES = (ANONYMOUS, ANONYMOUS_HTMX, *USERS)

DISTRICT_1 = frozenset({TEACHER_A, TEACHER_B, COACH_A, COACH_B, DISTRICT_COACH, DISTRICT_ADMIN,
                        DUAL})
DISTRICT_2 = frozenset({OTHER_TEACHER, OTHER_COACH, OTHER_ADMIN})
STAFF = DISTRICT_1 | DISTRICT_2  # teachers, coaches, administrators
# A school leader reads their school's work and nothing else: no rubric, round or result page.
EVERYONE = STAFF | {LEADER_A}
TEACHERS = frozenset({TEACHER_A, TEACHER_B, DUAL, OTHER_TEACHER})
COACHES = frozenset({COACH_A, COACH_B, DISTRICT_COACH, DUAL, OTHER_COACH})
ADMINS = frozenset({DISTRICT_ADMIN, OTHER_ADMIN})
# Coaches (any, school-scoped too) and administrators of district 1: rubric editors, round runners.
LEADS_1 = frozenset({COACH_A, COACH_B, DISTRICT_COACH, DISTRICT_ADMIN, DUAL})
LEADS_2 = frozenset({OTHER_COACH, OTHER_ADMIN})
OWNER_STAFF = frozenset({TEACHER_A, COACH_A, DUAL})  # teachers and coaches of school A
OVERSIGHT = frozenset({DISTRICT_COACH, DISTRICT_ADMIN})
ANCHOR_LEADS = frozenset({COACH_A, DISTRICT_COACH, DISTRICT_ADMIN})


@dataclass(frozen=True)
class Access:
    """Who may use an endpoint. Others logged in get 403, or 404 where the app hides that the
    object exists (`not_found`); anonymous visitors are sent to log in unless `public`."""

    allowed: frozenset[str]
    not_found: frozenset[str] = frozenset()
    public: bool = False

    def expected(self, role: str) -> str:
        if self.public:
            return "allowed"
        if role in (ANONYMOUS, ANONYMOUS_HTMX):
            return "login"
        if role in self.allowed:
            return "allowed"
        return "404" if role in self.not_found else "403"


def allow(*groups, not_found=frozenset()) -> Access:
    return Access(frozenset().union(*groups), frozenset(not_found))


PUBLIC = Access(EVERYONE, public=True)
VIEW_1 = allow(DISTRICT_1, not_found=DISTRICT_2)  # district 1's rubrics, for its staff
EDIT_1 = allow(LEADS_1, not_found=LEADS_2)  # district 2's teacher fails the role check: 403
QUEUE_ITEM = allow({TEACHER_B}, not_found={TEACHER_A, DUAL, OTHER_TEACHER})
PRACTICE_PAPER = allow({TEACHER_A, TEACHER_B, DUAL}, not_found={OTHER_TEACHER})
# teacher_a's practice, visible to the coaches whose scope covers school A (the district allows
# it); everyone else with a teacher or coach role is told it does not exist.
PRACTICE_OF_A = allow({TEACHER_A, COACH_A, DISTRICT_COACH},
                      not_found={TEACHER_B, COACH_B, DUAL, OTHER_TEACHER, OTHER_COACH})
ROUND_1 = allow(LEADS_1, not_found=LEADS_2)
# Staff of some school upload; a district-wide coach has no school to upload to.
UPLOADERS = allow({TEACHER_A, TEACHER_B, COACH_A, COACH_B, DUAL, OTHER_TEACHER})
# teacher_b has the sample queued; leader_a leads its school.
# The open round's report: those who run district 1's rounds, except dual, who teaches in the
# district and so could be one of its raters: refused while the round is open.
OPEN_ROUND_REPORT = allow(LEADS_1 - {DUAL}, not_found=LEADS_2)
# teacher_a's calibration profile: theirs alone while the district keeps calibration results
# from coaches (the world's setting is off); administrators and leaders fail the role check.
PROFILE_OF_A = allow({TEACHER_A}, not_found={TEACHER_B, COACH_A, COACH_B, DISTRICT_COACH, DUAL,
                                             OTHER_TEACHER, OTHER_COACH})
RATER_VIEW = allow(OWNER_STAFF, OVERSIGHT, {TEACHER_B, LEADER_A})
# The world's live session: district_coach facilitates, teacher_a has joined. Every other
# teacher or coach is told it does not exist; other roles fail the role check.
SESSION_OF_WORLD = allow({DISTRICT_COACH, TEACHER_A},
                         not_found={TEACHER_B, COACH_A, COACH_B, DUAL, OTHER_TEACHER,
                                    OTHER_COACH})
# Its summary: for who takes part, and who oversees the session from the district's list (its
# administrators and, of a cross-school session, every coach of the district).
SUMMARY_OF_WORLD = allow({DISTRICT_COACH, TEACHER_A, DISTRICT_ADMIN, COACH_A, COACH_B, DUAL},
                         not_found={TEACHER_B, OTHER_TEACHER, OTHER_COACH, OTHER_ADMIN})

DECLARATIONS: dict[str, Access] = {
    "static": PUBLIC,
    "healthz": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.sso_start": PUBLIC,
    "accounts.sso_callback": PUBLIC,
    # A one-time link works for whoever holds it, logged in or not.
    "accounts.forgot_password": PUBLIC,
    "accounts.set_password": PUBLIC,
    "accounts.home": allow(EVERYONE),
    "accounts.logout": allow(EVERYONE),
    "accounts.change_password": allow(EVERYONE),
    "accounts.own_time_zone": allow(EVERYONE),
    "accounts.no_role": allow(EVERYONE),
    "accounts.teacher_home": allow(TEACHERS),
    "accounts.coach_home": allow(COACHES),
    "accounts.district_home": allow(ADMINS),
    "accounts.audit_log": allow(ADMINS),
    "accounts.export_audit_log": allow(ADMINS),
    "people.list_people": allow({DISTRICT_ADMIN}),
    "people.new_person": allow({DISTRICT_ADMIN}),
    "people.edit_person": allow({DISTRICT_ADMIN}),
    "people.add_role": allow({DISTRICT_ADMIN}),
    "people.remove_role": allow({DISTRICT_ADMIN}),
    "people.deactivate_person": allow({DISTRICT_ADMIN}),
    "people.reactivate_person": allow({DISTRICT_ADMIN}),
    "people.invite_person": allow({DISTRICT_ADMIN}),
    "settings.district_settings": allow({DISTRICT_ADMIN}),
    # District 1's roster imports: its administrator; district 2's is refused (403).
    "roster.upload": allow({DISTRICT_ADMIN}),
    "roster.show_import": allow({DISTRICT_ADMIN}),
    "roster.apply_import": allow({DISTRICT_ADMIN}),

    # District 1's schools: its administrator only; district 2's is refused (403).
    "schools.list_schools": allow({DISTRICT_ADMIN}),
    "schools.new_school": allow({DISTRICT_ADMIN}),
    "schools.edit_school": allow({DISTRICT_ADMIN}),
    "schools.archive_school": allow({DISTRICT_ADMIN}),
    "schools.unarchive_school": allow({DISTRICT_ADMIN}),
    "schools.add_measure": allow({DISTRICT_ADMIN}),

    "rubrics.list_rubrics": allow(STAFF),
    "rubrics.create_rubric": allow(COACHES, ADMINS),
    "rubrics.import_rubric": allow(COACHES, ADMINS),
    "rubrics.show_rubric": VIEW_1,
    "rubrics.show_version": VIEW_1,
    "rubrics.export_version": VIEW_1,
    "rubrics.show_details": VIEW_1,
    "rubrics.version_status": VIEW_1,
    "rubrics.list_criteria": VIEW_1,
    "rubrics.show_criterion": VIEW_1,
    "rubrics.show_level": VIEW_1,
    "rubrics.create_version": EDIT_1,
    "rubrics.edit_details": EDIT_1,
    "rubrics.update_details": EDIT_1,
    "rubrics.add_criterion": EDIT_1,
    "rubrics.edit_criterion": EDIT_1,
    "rubrics.update_criterion": EDIT_1,
    "rubrics.move_criterion": EDIT_1,
    "rubrics.delete_criterion": EDIT_1,
    "rubrics.add_level": EDIT_1,
    "rubrics.edit_level": EDIT_1,
    "rubrics.update_level": EDIT_1,
    "rubrics.move_level": EDIT_1,
    "rubrics.mark_proficient": EDIT_1,
    "rubrics.delete_level": EDIT_1,

    "samples.list_samples": allow(EVERYONE),
    "samples.upload_sample": UPLOADERS,
    "samples.upload_class_set": UPLOADERS,
    # Anyone who may upload has a list of their drafts still waiting for a student's name.
    "samples.name_students": allow(TEACHERS, COACHES),
    "samples.set_student": allow({TEACHER_A}),
    "samples.name_check": allow(OWNER_STAFF),
    "samples.redact_sample": allow({TEACHER_A}),
    "samples.redact_page": allow({TEACHER_A}),
    "samples.show_sample": RATER_VIEW,
    "samples.page_image": RATER_VIEW,
    "samples.sample_image": RATER_VIEW,
    "samples.show_identity": allow(OWNER_STAFF),
    "samples.download_sample": allow(OWNER_STAFF, OVERSIGHT),
    "samples.record_local_score": allow({TEACHER_A}),
    "samples.confirm_redaction": allow({TEACHER_A}),
    "samples.promote_anchor": allow(ANCHOR_LEADS),
    "samples.delete_sample": allow(OWNER_STAFF, {DISTRICT_ADMIN}),
    "samples.purge_sample": allow({DISTRICT_ADMIN}),
    "samples.list_anchors": allow(COACHES, ADMINS),
    "samples.show_anchor": allow(ANCHOR_LEADS),
    "samples.move_anchor": allow(ANCHOR_LEADS),

    "scoring.show_queue": allow(TEACHERS),
    "scoring.queue_progress": allow(TEACHERS),
    "scoring.queue_items": allow(TEACHERS),
    "scoring.show_item": QUEUE_ITEM,
    "scoring.save_draft": QUEUE_ITEM,
    "scoring.submit_item": QUEUE_ITEM,
    "scoring.revise_item": QUEUE_ITEM,
    "practice.show_practice": allow(TEACHERS),
    "practice.practise": PRACTICE_PAPER,
    "practice.practice_page": PRACTICE_PAPER,
    "practice.practice_image": PRACTICE_PAPER,
    "practice.show_attempt": PRACTICE_OF_A,
    "practice.teacher_practice": PRACTICE_OF_A,
    "scoring.list_rounds": allow(COACHES, ADMINS),
    "scoring.new_round": allow(COACHES, ADMINS),
    "scoring.preview_round": allow(COACHES, ADMINS),
    "scoring.round_samples": allow(COACHES, ADMINS),
    "scoring.show_round": ROUND_1,
    "scoring.round_progress": ROUND_1,
    "scoring.close_round": ROUND_1,
    # A round's analysis: those who may close the round start it and follow it.
    "analysis.run_round": ROUND_1,
    "analysis.round_status": ROUND_1,
    "reports.show_round_report": OPEN_ROUND_REPORT,
    "reports.export_round_json": OPEN_ROUND_REPORT,
    "reports.export_round_xlsx": OPEN_ROUND_REPORT,
    "reports.export_round_ratings": OPEN_ROUND_REPORT,
    "reports.export_round_chart": OPEN_ROUND_REPORT,
    # Every school beside the others: for who sees every school of district 1.
    "reports.show_round_schools": allow(OVERSIGHT, not_found=LEADS_2),
    "reports.show_teacher_profile": PROFILE_OF_A,
    "sessions.list_sessions": allow(TEACHERS, COACHES),
    "sessions.join_session": allow(TEACHERS, COACHES),
    # Coaches set sessions up; teachers only where the district allows (the world's does not).
    "sessions.new_session": allow(COACHES),
    "sessions.show_session": SESSION_OF_WORLD,
    "sessions.poll_session": SESSION_OF_WORLD,
    "sessions.submit_scores": SESSION_OF_WORLD,
    "sessions.change_state": SESSION_OF_WORLD,
    "sessions.change_agenda": SESSION_OF_WORLD,
    "sessions.record_consensus": SESSION_OF_WORLD,
    "sessions.note_dissent": SESSION_OF_WORLD,
    "sessions.show_summary": SUMMARY_OF_WORLD,
    "sessions.export_summary": SUMMARY_OF_WORLD,
    "sessions.district_sessions": allow(COACHES, ADMINS),
    # A download link works only for the user it was issued to (teacher_a here).
    "storage.download": allow({TEACHER_A}),
}
