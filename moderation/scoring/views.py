from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields import SelectChoice

from moderation.accounts.models import District, Role, User
from moderation.accounts.permissions import role_required
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render, wants_fragment
from moderation.core.storage import StorageError, get_storage, send_stored
from moderation.samples import permissions as sample_permissions
from moderation.samples.models import Anchor, WorkSample
from moderation.samples.processing import FileKind
from moderation.scoring import permissions, queries, services
from moderation.scoring.forms import CloseRoundForm, PracticePrivacyForm, RoundForm, ScoreSheet
from moderation.scoring.models import PracticeAttempt, QueueItem, ScoringRound

bp = Blueprint("scoring", __name__, url_prefix="/scoring")

ROUND_ROLES = permissions.ROUND_ROLES
SAVED_ELSEWHERE = services.SAVED_ELSEWHERE


def _text_of(sample: WorkSample) -> str | None:
    if sample.kind != FileKind.TEXT:
        return None
    try:
        return get_storage().open(sample.storage_key).decode("utf-8")
    except StorageError:
        return ""


def _commit_or_conflict() -> bool:
    """Commit; False if the database refused a second current rating (two windows at once)."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


# --- the rater's queue ---------------------------------------------------------------------------

def _item_or_404(token: str) -> QueueItem:
    # Another rater's item, or an item of a closed round, does not exist for this user.
    item = queries.item_by_token(token)
    if item is None or not queries.can_score_item(current_user, item):
        abort(404)
    return item


def _item_context(item: QueueItem | None, *, current: dict | None = None, form=None,
                  mode: str | None = None, message: str | None = None) -> dict:
    """What the item region shows; `current` is the item's current ratings if the request
    has read them already."""
    if item is None:
        return {"item": None, "message": message}
    version = item.round.rubric_version
    mode = mode or ("submitted" if item.is_submitted else "score")
    # Only a new form and the list of submitted scores show the current ratings.
    if current is None and (form is None or mode == "submitted"):
        current = queries.current_ratings(item)
    sheet = ScoreSheet(version, with_reason=mode == "revise")
    form = form or sheet.form(current=current)
    return {"item": item, "sample": item.sample, "text": _text_of(item.sample),
            "version": version, "form": form, "rows": sheet.rows(form), "mode": mode,
            "current": current, "message": message}


def _rest_of_queue(shown: dict) -> dict:
    """The regions of the queue page that a view has not built already."""
    rest = {}
    if "progress" not in shown:
        rest["progress"] = queries.queue_progress(current_user)
    if "items" not in shown:
        rest["items"] = queries.queue_items_for(current_user)
    if "item" not in shown:
        rest.update(_item_context(queries.next_item(current_user)))
    return rest


def _queue_page(fragment: str, *, status: int = 200, trigger=None, **shown):
    """One region of the queue page (`fragment`, from what `shown` holds) for a targeted htmx
    request, which refreshes that region alone; the whole page otherwise."""
    if not wants_fragment():
        shown = {**_rest_of_queue(shown), **shown}
    return render("scoring/queue.html", fragment, status=status, trigger=trigger, **shown)


def _render_item(item, status=200, trigger=None, **kwargs):
    return _queue_page("scoring/_item.html", status=status, trigger=trigger,
                       **_item_context(item, **kwargs))


@bp.get("/queue")
@role_required(Role.TEACHER)
def show_queue():
    return render_template("scoring/queue.html", **_rest_of_queue({}))


@bp.get("/queue/progress")
@role_required(Role.TEACHER)
def queue_progress():
    return _queue_page("scoring/_progress.html", progress=queries.queue_progress(current_user))


@bp.get("/queue/items")
@role_required(Role.TEACHER)
def queue_items():
    return _queue_page("scoring/_queue_list.html", items=queries.queue_items_for(current_user))


@bp.get("/items/<token>")
@role_required(Role.TEACHER)
def show_item(token: str):
    return _render_item(_item_or_404(token))


def _sheet_for(item: QueueItem, current: dict, *, with_reason: bool = False):
    sheet = ScoreSheet(item.round.rubric_version, with_reason=with_reason)
    return sheet, sheet.form(current=current)


@bp.post("/items/<token>/draft")
@role_required(Role.TEACHER)
def save_draft(token: str):
    item = _item_or_404(token)
    current = queries.current_ratings(item)
    sheet, form = _sheet_for(item, current)
    return submit(
        form, lambda: services.save_draft(item, current_user, sheet.scores(form),
                                          sheet.comments(form), current),
        refused={services.ScoringError: None}, raced=lambda: SAVED_ELSEWHERE,
        done=lambda _: _render_item(item, trigger="draftSaved", form=form,
                                    message="Draft saved. Nothing is final until you submit."),
        invalid=lambda status: _render_item(item, status=status, form=form))


@bp.post("/items/<token>/submit")
@role_required(Role.TEACHER)
def submit_item(token: str):
    item = _item_or_404(token)
    current = queries.current_ratings(item)
    sheet, form = _sheet_for(item, current)

    def submit_scores() -> str:
        services.submit_item(item, current_user, sheet.scores(form), sheet.comments(form),
                             current)
        return item.sample.code  # read before the commit expires the item

    def submitted(code: str):
        message = f"Your scores for {code} are submitted."
        if not wants_fragment():
            flash(message, "success")
            return redirect(url_for("scoring.show_queue"))
        return _render_item(queries.next_item(current_user), trigger="scoreSubmitted",
                            message=message)

    def raced() -> str | None:
        # A simultaneous submit of the same item won: the same scores mean the same result.
        if services.stored_by_twin(item, sheet.scores(form), sheet.comments(form)):
            return None
        return SAVED_ELSEWHERE

    return submit(form, submit_scores, refused={services.ScoringError: None}, raced=raced,
                  done=submitted,
                  invalid=lambda status: _render_item(item, status=status, form=form))


@bp.route("/items/<token>/revise", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def revise_item(token: str):
    item = _item_or_404(token)
    current = queries.current_ratings(item)
    if not item.is_submitted:
        return _render_item(item, current=current)
    sheet, form = _sheet_for(item, current, with_reason=True)
    if form.validate_on_submit():
        scores, comments = sheet.scores(form), sheet.comments(form)
        try:
            changed = services.revise_item(item, current_user, scores, comments,
                                           form.reason.data, current)
        except services.ScoringConflict as error:
            db.session.rollback()
            # A double click: the simultaneous twin already stored exactly these scores.
            if services.stored_by_twin(item, scores, comments):
                return _render_item(item, message="Your changed scores are saved; the reason "
                                                  "is kept with the change.")
            form.form_errors.append(str(error))
        except services.ScoringError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            if _commit_or_conflict():
                message = (f"{changed} score{'s' if changed != 1 else ''} changed; the reason "
                           f"is kept with the change." if changed else "Nothing was different, "
                           "so nothing changed.")
                return _render_item(item, trigger="scoreRevised" if changed else None,
                                    message=message)
            form.form_errors.append(SAVED_ELSEWHERE)
    status = 422 if request.method == "POST" else 200
    return _render_item(item, status=status, form=form, mode="revise")


# --- practice ------------------------------------------------------------------------------------

def _practice_anchor_or_404(anchor_id: int) -> Anchor:
    anchor = db.get_or_404(Anchor, anchor_id)
    if not queries.can_practise(current_user, anchor):
        abort(404)
    return anchor


@bp.get("/practice")
@role_required(Role.TEACHER)
def show_practice():
    return render_template("scoring/practice.html",
                           anchors=queries.practice_anchors_for(current_user),
                           attempts=queries.practice_history(current_user),
                           owner=current_user, own=True,
                           shared=queries.practice_shared_with_coaches(current_user))


def _practice_context(anchor: Anchor, form, sheet, attempt=None) -> dict:
    return {"anchor": anchor, "sample": anchor.sample, "text": _text_of(anchor.sample),
            "version": anchor.rubric_version, "form": form, "rows": sheet.rows(form),
            "attempt": attempt, **(_feedback(attempt) if attempt else {})}


def _feedback(attempt: PracticeAttempt) -> dict:
    return {"attempt": attempt, "given": queries.attempt_ratings(attempt),
            "agreed": {s.criterion_id: s for s in attempt.anchor.scores}}


@bp.route("/practice/papers/<int:anchor_id>", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def practise(anchor_id: int):
    anchor = _practice_anchor_or_404(anchor_id)
    sheet = ScoreSheet(anchor.rubric_version, with_nonce=True)
    form = sheet.form()
    if form.validate_on_submit():
        try:
            attempt, _ = services.submit_practice(anchor, current_user, sheet.scores(form),
                                                  sheet.comments(form), form.nonce.data)
        except services.ScoringError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            if not _commit_or_conflict():  # the same form sent twice at once: the first counts
                attempt = queries.attempt_by_nonce(form.nonce.data)
            if not wants_fragment():
                return redirect(url_for("scoring.show_attempt", attempt_id=attempt.id))
            return render("scoring/practice_paper.html", "scoring/_practice.html",
                          trigger="practiceRecorded",
                          **_practice_context(anchor, form, sheet, attempt))
    status = 422 if request.method == "POST" else 200
    return render("scoring/practice_paper.html", "scoring/_practice.html", status=status,
                  **_practice_context(anchor, form, sheet))


@bp.get("/practice/papers/<int:anchor_id>/pages/<int:number>.png")
@role_required(Role.TEACHER)
def practice_page(anchor_id: int, number: int):
    # Practice shows the work by its own address, never the sample's code: a code seen in
    # practice must not identify an anchor paper when it turns up in a queue.
    anchor = _practice_anchor_or_404(anchor_id)
    page = next((p for p in anchor.sample.pages if p.number == number), None)
    if page is None:
        abort(404)
    return send_stored(page.storage_key, "image/png")


@bp.get("/practice/papers/<int:anchor_id>/image")
@role_required(Role.TEACHER)
def practice_image(anchor_id: int):
    sample = _practice_anchor_or_404(anchor_id).sample
    if sample.kind not in (FileKind.PNG, FileKind.JPEG):
        abort(404)
    return send_stored(sample.storage_key, sample.content_type)


@bp.get("/practice/attempts/<int:attempt_id>")
@role_required(Role.TEACHER, Role.COACH)
def show_attempt(attempt_id: int):
    attempt = db.get_or_404(PracticeAttempt, attempt_id)
    if not queries.can_see_practice_of(current_user, attempt.user):
        abort(404)
    return render_template("scoring/attempt.html", anchor=attempt.anchor,
                           version=attempt.anchor.rubric_version,
                           own=attempt.user_id == current_user.id, **_feedback(attempt))


@bp.get("/practice/teachers/<int:user_id>")
@role_required(Role.TEACHER, Role.COACH)
def teacher_practice(user_id: int):
    teacher = db.get_or_404(User, user_id)
    if not queries.can_see_practice_of(current_user, teacher):
        abort(404)
    return render_template("scoring/practice_history.html", owner=teacher,
                           attempts=queries.practice_history(teacher),
                           own=teacher.id == current_user.id)


# --- district setting: may coaches see practice? -------------------------------------------------

def practice_privacy_for(district: District) -> dict:
    settings = queries.scoring_settings(district.id)
    form = PracticePrivacyForm(formdata=None, visible=settings.practice_visible_to_coaches)
    return {"settings": settings, "form": form}


@bp.app_template_global("scoring_practice_privacy")
def scoring_practice_privacy(district: District) -> dict:
    """For the district page (templates/accounts/district_home.html)."""
    return practice_privacy_for(district)


@bp.app_template_global("scoring_teacher_summary")
def scoring_teacher_summary(user) -> queries.TeacherSummary:
    """For the teacher's home page (templates/accounts/teacher_home.html)."""
    return queries.teacher_summary(user)


@bp.app_template_global("scoring_rounds_overview")
def scoring_rounds_overview(user) -> queries.RoundsOverview:
    """For the home pages of coaches and district administrators (templates/accounts)."""
    return queries.rounds_overview(user)


@bp.app_template_global("scoring_coached_practice")
def scoring_coached_practice(user) -> dict:
    """Practice attempts per teacher id, of the teachers whose district shares practice with
    the coach, and whether any of the coach's districts keeps it private (coach_home.html)."""
    teachers, private = queries.coached_practice(user)
    return {"attempts": {t.user.id: t.attempts for t in teachers}, "private": private}


@bp.route("/districts/<int:district_id>/practice-privacy", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def practice_privacy(district_id: int):
    district = db.get_or_404(District, district_id)
    if district.id not in sample_permissions.admin_district_ids(current_user):
        abort(403)
    form = PracticePrivacyForm()
    message = None
    if form.validate_on_submit():
        changed = services.set_practice_visibility(district, current_user, form.visible.data)
        db.session.commit()
        message = ("Saved: " if changed else "Unchanged: ") + (
            "coaches may now see the practice history of the teachers in their scope."
            if form.visible.data else "practice history is private to each teacher.")
    elif request.method == "POST":
        abort(400)
    return render("scoring/practice_privacy.html", "scoring/_practice_privacy.html",
                  district=district, privacy_message=message)


# --- rounds --------------------------------------------------------------------------------------

@bp.get("/rounds")
@role_required(*ROUND_ROLES)
def list_rounds():
    return render_template("scoring/rounds.html", rounds=queries.rounds_for(current_user))


def _round_form() -> tuple[RoundForm, dict, list[WorkSample]]:
    """The round form with its choices for the chosen district and rubric version, the page's
    context, and the samples a round could take. The context lists those samples only to whom
    permissions.sees_sample_list() allows; a round manager who could be a rater gets counts."""
    managed = permissions.managed_district_ids(current_user)
    form = RoundForm()
    district_id = form.district_id.data or request.args.get("district_id", type=int) or (
        min(managed) if managed else None)
    if district_id not in managed:
        abort(403)
    district = db.get_or_404(District, district_id)
    form.district_id.data = district.id
    versions = queries.round_versions(district.id)
    form.rubric_version_id.choices = [SelectChoice(v.id, v.label) for v in versions]
    wanted = (form.rubric_version_id.data if request.method == "POST"
              else request.args.get("rubric_version_id", type=int))
    version = services.round_version(versions, wanted)
    samples = queries.round_candidate_samples(version) if version else []
    candidates = queries.round_candidate_raters(district.id, opened_by=current_user)
    eligible = [c for c in candidates if not c.excluded]
    shows_samples = permissions.sees_sample_list(current_user, district.id)
    form.sample_ids.choices = [SelectChoice(s.id, s.code) for s in samples]
    form.rater_ids.choices = [SelectChoice(c.user.id, c.user.display_name) for c in eligible]
    form.rater_school_ids.choices = [SelectChoice(s.id, s.name) for s in district.schools]
    if request.method != "POST":
        form.rubric_version_id.data = version.id if version else None
        form.sample_ids.data = [s.id for s in samples]
        form.rater_ids.data = [c.user.id for c in eligible]
        form.rater_school_ids.data = [s.id for s in district.schools]
        if version and not form.name.data:
            form.name.data = f"{version.rubric.title}, {utcnow():%B %Y}"
    if not shows_samples:
        form.sample_ids.data = [s.id for s in samples]
    pool = _chosen_raters(form, candidates)
    context = {"form": form, "district": district, "version": version,
               "samples": samples if shows_samples else [], "n_samples": len(samples),
               "shows_samples": shows_samples, "candidates": candidates,
               "n_anchors": len(queries.calibration_anchors(version)) if version else 0,
               "unmet_calibration": (queries.unmet_calibration_count(
                   version, [u.id for u in pool]) if version else 0),
               "school_comparison_anchors": services.SCHOOL_COMPARISON_ANCHORS,
               "schools": district.schools}
    return form, context, samples


def _chosen_raters(form: RoundForm, candidates) -> list[User]:
    return services.chosen_pool(candidates, form.rater_ids.data or [],
                                form.rater_school_ids.data or [])


def _round_request(form: RoundForm, context: dict, samples: list[WorkSample]
                   ) -> services.RoundRequest:
    chosen = set(form.sample_ids.data or [])
    offered = {s.id for s in samples}
    return services.RoundRequest(
        name=form.name.data, version=context["version"],
        samples=[s for s in samples if s.id in chosen]
        + queries.samples_by_ids(sorted(chosen - offered)),
        raters=_chosen_raters(form, context["candidates"]),
        ratings_per_sample=form.ratings_per_sample.data,
        validity_rate=form.validity_percent.data / 100,
        calibration_size=form.calibration_size.data, seed=form.seed.data)


@bp.route("/rounds/new", methods=["GET", "POST"])
@role_required(*ROUND_ROLES)
def new_round():
    form, context, samples = _round_form()
    if form.validate_on_submit() and context["version"] is not None:
        try:
            scoring_round = services.open_round(context["district"], current_user,
                                                _round_request(form, context, samples))
        except services.ScoringError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"“{scoring_round.name}” is open: every teacher in the pool has their queue.",
                  "success")
            return redirect(url_for("scoring.show_round", round_id=scoring_round.id))
    status = 422 if request.method == "POST" else 200
    return render("scoring/new_round.html", "scoring/_round_form.html", status=status,
                  **context)


@bp.post("/rounds/preview")
@role_required(*ROUND_ROLES)
def preview_round():
    form, context, samples = _round_form()
    design, status = None, 422
    if form.validate_on_submit() and context["version"] is not None:
        try:
            design = services.plan_round(context["district"],
                                         _round_request(form, context, samples),
                                         current_user).summary()
            status = 200
        except services.ScoringError as error:
            form.form_errors.append(str(error))
    elif context["version"] is None:
        form.form_errors.append("The district has no rubric version ready for scoring yet.")
    return render("scoring/new_round.html", "scoring/_design_preview.html", status=status,
                  design=design, preview=True, **context)


def _round_or_404(round_id: int) -> ScoringRound:
    scoring_round = db.get_or_404(ScoringRound, round_id)
    if not permissions.can_manage_round(current_user, scoring_round):
        abort(404)
    return scoring_round


def _round_context(scoring_round: ScoringRound, **extra) -> dict:
    return {"round": scoring_round, "design": scoring_round.design,
            "progress": queries.round_progress(scoring_round),
            "totals": queries.round_totals(scoring_round),
            "close_form": CloseRoundForm(), **extra}


@bp.get("/rounds/<int:round_id>")
@role_required(*ROUND_ROLES)
def show_round(round_id: int):
    return render_template("scoring/round.html", **_round_context(_round_or_404(round_id)))


@bp.get("/rounds/<int:round_id>/progress")
@role_required(*ROUND_ROLES)
def round_progress(round_id: int):
    return render("scoring/round.html", "scoring/_round_progress.html",
                  **_round_context(_round_or_404(round_id)))


@bp.post("/rounds/<int:round_id>/close")
@role_required(*ROUND_ROLES)
def close_round(round_id: int):
    scoring_round = _round_or_404(round_id)
    form = CloseRoundForm()
    if not form.validate_on_submit():
        return render("scoring/round.html", "scoring/_round_status.html", status=422,
                      **_round_context(scoring_round, close_form=form))
    try:
        services.close_round(scoring_round, current_user)
    except services.ScoringStateError as error:
        abort(409, str(error))
    db.session.commit()
    if not wants_fragment():
        flash(f"“{scoring_round.name}” is closed.", "success")
        return redirect(url_for("scoring.show_round", round_id=scoring_round.id))
    return render("scoring/round.html", "scoring/_round_status.html", trigger="roundClosed",
                  **_round_context(scoring_round))
