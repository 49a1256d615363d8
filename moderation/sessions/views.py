import io

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from moderation.accounts.models import Role, School, User
from moderation.accounts.permissions import district_ids, role_required
from moderation.core.db import utcnow
from moderation.core.downloads import XLSX, download
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render, wants_fragment
from moderation.core.storage import get_storage
from moderation.reports.exports import tables_xlsx
from moderation.samples import queries as sample_queries
from moderation.samples.models import SampleStatus, WorkSample
from moderation.scoring.forms import ScoreSheet
from moderation.scoring.models import ScoringRound
from moderation.sessions import exports, forms, permissions, presence, queries, services
from moderation.sessions.models import (
    ConsensusMethod,
    ItemState,
    Session,
    SessionItem,
    SessionParticipant,
    SessionScope,
    SessionState,
)
from rubrics import queries as rubric_queries
from rubrics.models import RubricVersion

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

SESSION_ROLES = (Role.TEACHER, Role.COACH)
ALREADY_SUBMITTED = "Your scores for this item were already submitted from another window."

STEPS = {
    "start": services.start,
    "reveal": services.reveal,
    "discuss": services.discuss,
    "rescore": services.rescore,
    "agree": lambda s, actor: services.conclude_item(s, actor, ItemState.AGREED),
    "defer": lambda s, actor: services.conclude_item(s, actor, ItemState.DEFERRED),
    "debrief": services.to_debrief,
    "close": services.close,
    "take_over": services.take_over,
}


def _session_and_place(session_id: int) -> tuple[Session, SessionParticipant | None]:
    """The session and the user's place in it. A session the user neither runs nor has joined
    does not exist for them."""
    session = db.get_or_404(Session, session_id)
    place = queries.participant(session, current_user)
    if not permissions.in_scope(current_user, session) or not (
            permissions.is_facilitating(current_user, session) or place):
        abort(404)
    return session, place


def _session_or_404(session_id: int) -> Session:
    return _session_and_place(session_id)[0]


# --- the list, joining and setting up ------------------------------------------------------------

@bp.app_template_global("sessions_on_home")
def sessions_on_home(user) -> dict:
    """The home pages' sessions box: the join form and the user's open sessions."""
    return {"join_form": forms.JoinForm(), "sessions": queries.sessions_for(user)}


def _list_page(join_form, status: int = 200):
    return render_template("sessions/list.html", join_form=join_form,
                           sessions=queries.sessions_for(current_user),
                           may_create=bool(permissions.facilitation_district_ids(current_user)),
                           oversees=current_user.has_role(Role.COACH)), status


@bp.get("/")
@role_required(*SESSION_ROLES)
def list_sessions():
    return _list_page(forms.JoinForm())


@bp.get("/district")
@role_required(Role.COACH, Role.DISTRICT_ADMIN)
def district_sessions():
    """The sessions of the district that the reader oversees, set up, under way and finished,
    newest first (not the scores: those stay in each session)."""
    sessions = [session for session in queries.district_sessions(
        district_ids(current_user, Role.COACH, Role.DISTRICT_ADMIN))
        if permissions.oversees(current_user, session)]
    groups = {"Set up, not started": [], "Under way": [], "Finished": []}
    for session in sessions:
        groups["Set up, not started" if session.state == SessionState.BRIEFING
               else "Finished" if session.state == SessionState.CLOSED else "Under way"
               ].append(session)
    return render_template("sessions/district.html", groups=groups,
                           limit=queries.DISTRICT_LIST_LIMIT)


@bp.post("/join")
@role_required(*SESSION_ROLES)
def join_session():
    form = forms.JoinForm()

    def join() -> int:
        session = queries.open_session_by_code(services.normalise_code(form.code.data))
        if session is None:
            raise services.SessionError("No open session has that code; check it with your "
                                        "facilitator.")
        services.join(session, current_user)
        return session.id

    # A double click joins once (the unique place), and both answers lead to the session.
    return submit(form, join, refused={services.SessionError: form.code}, raced=lambda: None,
                  done=lambda session_id: redirect(url_for("sessions.show_session",
                                                           session_id=session_id)),
                  invalid=lambda status: _list_page(form, status))


def _new_session_form(candidates: list[WorkSample]) -> forms.NewSessionForm:
    form = forms.NewSessionForm()
    districts = permissions.facilitation_district_ids(current_user)
    versions = [v for d in sorted(districts)
                for v in rubric_queries.versions_for_district(d, ready_only=True)]
    form.rubric_version_id.choices = [SelectChoice(v.id, v.label) for v in versions]
    form.sample_ids.choices = [SelectChoice(s.id, f"{s.code} · {s.title} · {s.school.name}")
                               for s in candidates]
    form.school_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(s.id, s.name)
        for s in sorted({s.school for s in candidates}, key=lambda school: school.name)]
    form.co_facilitator_id.choices = [SelectChoice("", "Nobody")] + [
        SelectChoice(u.id, u.display_name) for u in queries.district_staff(districts)
        if u.id != current_user.id]
    return form


def _candidate_samples(district_ids: set[int]) -> list[WorkSample]:
    """Ready work the facilitator may see, of their districts, not in an open round."""
    ready = [s for s in sample_queries.samples_for(current_user, SampleStatus.READY)
             if s.school.district_id in district_ids]
    in_rounds = queries.samples_in_open_rounds([s.id for s in ready])
    return [s for s in ready if s.id not in in_rounds]


@bp.app_template_global("propose_session_url")
def propose_session_url(scoring_round, sample_codes) -> str | None:
    """A report finding's "Propose a session": the set-up form with the round's rubric and the
    samples the finding names, for someone who may run sessions in the round's district."""
    if scoring_round.district_id not in permissions.facilitation_district_ids(current_user):
        return None
    return url_for("sessions.new_session", round=scoring_round.id, sample=list(sample_codes))


def _agenda_by_rubric(form: forms.NewSessionForm, candidates: list[WorkSample]) -> list:
    """The agenda's tick boxes under the rubric version each sample was uploaded for (only a
    sample of the session's rubric can go on its agenda)."""
    version_of = {sample.id: sample.rubric_version.label for sample in candidates}
    groups: dict[str, list] = {}
    for option in form.sample_ids:
        groups.setdefault(version_of[option.data], []).append(option)
    return sorted(groups.items())


def _proposed(form: forms.NewSessionForm, candidates: list[WorkSample]) -> None:
    """Fill a form being shown from a finding's proposal (?round=ID&sample=CODE...): the round's
    rubric, a title naming the round, and those of the samples the form offers."""
    scoring_round = db.session.get(ScoringRound, request.args.get("round", type=int) or 0)
    if scoring_round is None:
        return
    offered = {sample.code: sample.id for sample in candidates}
    if any(choice.value == scoring_round.rubric_version_id
           for choice in form.rubric_version_id.choices):
        form.rubric_version_id.data = scoring_round.rubric_version_id
    form.title.data = f"Moderation after “{scoring_round.name}”"
    proposed = request.args.getlist("sample")
    form.sample_ids.data = [offered[code] for code in proposed if code in offered]
    if missing := [code for code in proposed if code not in offered]:
        flash(f"{len(missing)} of the {len(proposed)} proposed samples cannot go on an agenda "
              f"({', '.join(missing)}): they have no work to show (an imported moderation's) "
              "or are in an open scoring round.", "warning")


@bp.route("/new", methods=["GET", "POST"])
@role_required(*SESSION_ROLES)
def new_session():
    if not permissions.facilitation_district_ids(current_user):
        abort(403)
    candidates = _candidate_samples(permissions.facilitation_district_ids(current_user))
    form = _new_session_form(candidates)
    if request.method == "GET":
        _proposed(form, candidates)

    def create() -> int:
        version = db.session.get(RubricVersion, form.rubric_version_id.data)
        if version is None:
            raise services.SessionError("Choose a rubric.")
        by_id = {s.id: s for s in sample_queries.samples_for(current_user)}
        chosen = [by_id[i] for i in form.sample_ids.data if i in by_id]
        co = form.co_facilitator_id.data
        school = form.school_id.data
        session = services.create_session(version.rubric.district, current_user,
                                          services.SessionRequest(
            title=form.title.data, version=version, scope=SessionScope(form.scope.data),
            samples=chosen, school=db.session.get(School, school) if school else None,
            co_facilitator=db.session.get(User, co) if co else None,
            is_names_at_reveal=form.is_names_at_reveal.data,
            allows_auto_agree=form.allows_auto_agree.data,
            timer_minutes=form.timer_minutes.data))
        return session.id

    return submit(form, create, refused={services.SessionError: None},
                  done=lambda session_id: redirect(url_for("sessions.show_session",
                                                           session_id=session_id)),
                  invalid=lambda status: (render_template(
                      "sessions/new.html", form=form,
                      agenda=_agenda_by_rubric(form, candidates)), status))


# --- the live page -------------------------------------------------------------------------------

def _score_form(view: queries.LiveView, user):
    """The sheet the viewer may fill in now, or None (with why not, for the page)."""
    if view.item is None or view.role is None or not view.role.scores:
        return None
    try:
        phase = services.submit_phase(view.session, view.item, user)
    except services.SessionStateError:
        return None
    if queries.has_submitted(view.item, user, phase):
        return None
    return phase


def _live(session: Session, *, status: int = 200, message: str | None = None,
          error: str | None = None, form=None, preserve: bool = False):
    """The live region for this viewer. `preserve` (a poll's answer) marks the forms
    hx-preserve, so a poll keeps what the viewer is typing; a form's own answer does not, so
    its messages show."""
    view = queries.live_view(session, current_user, utcnow(),
                             is_facilitating=permissions.is_facilitating(current_user, session))
    phase = _score_form(view, current_user)
    sheet = ScoreSheet(session.rubric_version)
    if phase is not None:
        form = form or sheet.form()
    elif form is not None and form.form_errors:  # the form is gone (scored, or revealed)
        error = error or " ".join(form.form_errors)
    item = view.item
    return render("sessions/session.html", "sessions/_live.html", status=status,
                  view=view, session=session, item=item, phase=phase,
                  form=form if phase else None, rows=sheet.rows(form) if phase else [],
                  sample=item.sample if item else None,
                  text=sample_queries.work_text(item.sample, get_storage()) if item else None,
                  may_record=permissions.may_record_consensus(current_user, session, view.role),
                  consensus_form=forms.ConsensusForm(), dissent_form=forms.DissentForm(),
                  methods=[m for m in ConsensusMethod if m != ConsensusMethod.AUTO],
                  message=message, error=error, preserve=preserve)


@bp.get("/<int:session_id>")
@role_required(*SESSION_ROLES)
def show_session(session_id: int):
    return _live(_session_or_404(session_id))


@bp.get("/<int:session_id>/poll")
@role_required(*SESSION_ROLES)
def poll_session(session_id: int):
    """204 while nothing changed since the version the page shows; the whole current state
    otherwise, so a page that slept or lost its connection catches up in one answer."""
    session, place = _session_and_place(session_id)
    now = utcnow()
    if place is not None:
        presence.mark_seen(place, now)
    services.reveal_if_due(session, now)
    version = session.version  # read before the commit expires it
    db.session.commit()
    if request.args.get("version", type=int) == version:
        return "", 204
    return _live(session, preserve=True)


@bp.post("/<int:session_id>/scores")
@role_required(*SESSION_ROLES)
def submit_scores(session_id: int):
    session = _session_or_404(session_id)
    sheet = ScoreSheet(session.rubric_version)
    form = sheet.form()
    messages = {"independent": "Your scores are in. They stay hidden until the reveal.",
                "post_reveal": "Your scores are in, marked as given after the reveal.",
                "rescore": "Your rescores are in."}

    def scored(phase: str):
        if not wants_fragment():
            flash(messages[phase], "success")
            return redirect(url_for("sessions.show_session", session_id=session_id))
        return _live(session, message=messages[phase])

    return submit(form, lambda: services.submit_scores(
        session, session.current_item, current_user, sheet.scores(form), sheet.comments(form)),
        refused={services.SessionError: None}, raced=lambda: ALREADY_SUBMITTED, done=scored,
        invalid=lambda status: _live(session, status=status, form=form))


def _after_change(session: Session, action, message: str):
    """Run one state change and answer with the current state (409 with the reason when the
    session was not in a state for it)."""
    try:
        action()
    except services.SessionError as error:
        db.session.rollback()
        db.session.refresh(session)
        status = 409 if isinstance(error, services.SessionStateError) else 422
        if not wants_fragment():
            flash(str(error), "error")
            return redirect(url_for("sessions.show_session", session_id=session.id))
        return _live(session, status=status, error=str(error))
    db.session.commit()
    if not wants_fragment():
        return redirect(url_for("sessions.show_session", session_id=session.id))
    return _live(session, message=message)


@bp.post("/<int:session_id>/step")
@role_required(*SESSION_ROLES)
def change_state(session_id: int):
    session = _session_or_404(session_id)
    form = forms.StepForm()
    step = STEPS.get(form.step.data) if form.validate_on_submit() else None
    if step is None:
        return _live(session, status=422, error="Choose one of the session's buttons.")
    return _after_change(session, lambda: step(session, current_user), "Done.")


@bp.post("/<int:session_id>/items/<int:item_id>/agenda")
@role_required(*SESSION_ROLES)
def change_agenda(session_id: int, item_id: int):
    session = _session_or_404(session_id)
    item = db.get_or_404(SessionItem, item_id)
    if item.session_id != session.id:
        abort(404)
    form = forms.AgendaForm()
    moves = {"skip": lambda: services.skip(session, current_user, item),
             "up": lambda: services.move(session, current_user, item, -1),
             "down": lambda: services.move(session, current_user, item, 1)}
    action = moves.get(form.action.data) if form.validate_on_submit() else None
    if action is None:
        return _live(session, status=422, error="Choose skip, up or down.")
    return _after_change(session, action, "The agenda is updated.")


@bp.post("/<int:session_id>/consensus")
@role_required(*SESSION_ROLES)
def record_consensus(session_id: int):
    session = _session_or_404(session_id)
    form = forms.ConsensusForm()
    if not form.validate_on_submit() or not (form.criterion_id.data or "").isdigit():
        return _live(session, status=422, error="Choose the criterion, level and method.")
    return _after_change(session, lambda: services.record_consensus(
        session, current_user, int(form.criterion_id.data), level=form.level.data,
        method=ConsensusMethod(form.method.data), rationale=form.rationale.data,
        evidence=form.evidence.data), "The consensus is recorded.")


@bp.post("/<int:session_id>/dissent")
@role_required(*SESSION_ROLES)
def note_dissent(session_id: int):
    session = _session_or_404(session_id)
    form = forms.DissentForm()
    if not form.validate_on_submit():
        return _live(session, status=422, error="Write what you disagree with.")
    return _after_change(session, lambda: services.note_dissent(
        session, current_user, None, form.text.data), "Your dissent is noted, without your "
                                                        "name.")


def _summary_of(session_id: int) -> tuple[Session, tuple[str, str]]:
    """The session for its summary, for who takes part and who oversees it from the district's
    list, with the summary's way back for this reader."""
    session = db.get_or_404(Session, session_id)
    if permissions.oversees(current_user, session):
        return session, (url_for("sessions.district_sessions"), "Sessions in the district")
    session = _session_or_404(session_id)
    return session, (url_for("sessions.show_session", session_id=session.id), session.title)


def _is_summed_up(session: Session) -> bool:
    return session.state in (SessionState.DEBRIEF, SessionState.CLOSED)


@bp.get("/<int:session_id>/summary")
@role_required(*SESSION_ROLES, Role.DISTRICT_ADMIN)
def show_summary(session_id: int):
    session, back = _summary_of(session_id)
    if not _is_summed_up(session):
        return render_template("sessions/summary.html", session=session, ready=False,
                               back=back), 409
    return render_template("sessions/summary.html", session=session, ready=True, back=back,
                           agreement=queries.agreement(session),
                           attendance=queries.attendance(session),
                           dissent=queries.dissent_by_item(session),
                           post_reveal=queries.post_reveal_counts(session))


@bp.get("/<int:session_id>/summary.xlsx")
@role_required(*SESSION_ROLES, Role.DISTRICT_ADMIN)
def export_summary(session_id: int):
    session, _ = _summary_of(session_id)
    if not _is_summed_up(session):
        abort(409, "The summary is ready once the agenda is done (the debrief).")
    stream = io.BytesIO()
    tables_xlsx(exports.summary_tables(session, queries.agreement(session),
                                       queries.attendance(session),
                                       queries.dissent_by_item(session)), stream)
    return download(stream.getvalue(), XLSX, f"session-{session.id}-summary.xlsx")
