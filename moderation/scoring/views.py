from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields import SelectChoice

from moderation.accounts.models import District, Role, User
from moderation.accounts.permissions import role_required
from moderation.core import timezones
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render, wants_fragment
from moderation.core.local_time import viewer_zone
from moderation.core.storage import get_storage
from moderation.samples import queries as sample_queries
from moderation.scoring import permissions, queries, services
from moderation.scoring.forms import CloseRoundForm, RoundForm, SampleChoiceForm, ScoreSheet
from moderation.scoring.models import QueueItem, ScoringRound
from rubrics.models import RubricVersion

bp = Blueprint("scoring", __name__, url_prefix="/scoring")

ROUND_ROLES = permissions.ROUND_ROLES
SAMPLES_PER_PAGE = 50
SAVED_ELSEWHERE = services.SAVED_ELSEWHERE


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
    return {"item": item, "sample": item.sample,
            "text": sample_queries.work_text(item.sample, get_storage()), "version": version,
            "form": form, "rows": sheet.rows(form), "mode": mode, "current": current,
            "message": message}


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


@bp.app_template_filter("short_day")
def day_label(day: date) -> str:
    """"Fri 11 Dec", with the year when it is not this year's."""
    label = f"{day:%a} {day.day} {day:%b}"
    return label if day.year == utcnow().year else f"{label} {day.year}"


@bp.app_template_global("scoring_teacher_summary")
def scoring_teacher_summary(user) -> queries.TeacherSummary:
    """For the teacher's home page (templates/accounts/teacher_home.html)."""
    return queries.teacher_summary(user)


@bp.app_template_global("scoring_rounds_overview")
def scoring_rounds_overview(user) -> queries.RoundsOverview:
    """For the home pages of coaches and district administrators (templates/accounts)."""
    return queries.rounds_overview(user)


# --- rounds --------------------------------------------------------------------------------------

@bp.get("/rounds")
@role_required(*ROUND_ROLES)
def list_rounds():
    return render_template("scoring/rounds.html", rounds=queries.rounds_for(current_user))


def _round_district() -> District:
    """The district whose round is being made: the one asked for, else the user's first."""
    managed = permissions.managed_district_ids(current_user)
    district_id = request.values.get("district_id", type=int) or (
        min(managed) if managed else None)
    if district_id not in managed:
        abort(403)
    return db.get_or_404(District, district_id)


def _sample_list(district: District, version: RubricVersion | None) -> dict:
    """The New round form's sample list: filters, the page asked for and its counts.

    Someone who must not see sample rows (permissions.sees_sample_list) gets the counts only,
    and their selection is every sample matching the filters."""
    formdata = request.form if request.method == "POST" else request.args
    choice = SampleChoiceForm(formdata=formdata)
    choice.school_id.choices = [SelectChoice("", "Any school")] + [
        SelectChoice(s.id, s.name) for s in district.active_schools]
    choice.grade_band.choices = [SelectChoice("", "Any grade band")] + [
        SelectChoice(band, band) for band in queries.grade_bands(district.schools)]
    shows_samples = permissions.sees_sample_list(current_user, district.id)
    context = {"choice": choice, "shows_samples": shows_samples, "district": district,
               "version": version, "sample_page": None, "sample_filter": None,
               "sample_selection": None}
    if version is None or not choice.validate():
        return context
    sample_filter = choice.sample_filter(version.id, viewer_zone())
    selection = (choice.sample_selection() if shows_samples
                 else queries.SampleSelection(all_matching=True))
    page = queries.round_sample_page(district.id, sample_filter, selection,
                                     page=request.values.get("page", 1, type=int),
                                     per_page=SAMPLES_PER_PAGE)
    return {**context, "sample_page": page, "sample_filter": sample_filter,
            "sample_selection": selection}


def _round_form() -> tuple[RoundForm, dict]:
    """The round form with its choices for the chosen district and rubric version, and the
    page's context: the sample list (_sample_list) and the teachers who could score."""
    district = _round_district()
    today = timezones.today_in(district.time_zone)
    form = RoundForm(today=today)
    form.district_id.data = district.id
    versions = queries.round_versions(district.id)
    form.rubric_version_id.choices = [SelectChoice(v.id, v.label) for v in versions]
    version = services.round_version(versions, request.values.get("rubric_version_id", type=int))
    candidates = queries.round_candidate_raters(district.id, opened_by=current_user)
    eligible = [c for c in candidates if not c.excluded]
    form.rater_ids.choices = [SelectChoice(c.user.id, c.user.display_name) for c in eligible]
    form.rater_school_ids.choices = [SelectChoice(s.id, s.name) for s in district.active_schools]
    if request.method != "POST":
        form.rubric_version_id.data = version.id if version else None
        form.rater_ids.data = [c.user.id for c in eligible]
        form.rater_school_ids.data = [s.id for s in district.active_schools]
        if version and not form.name.data:
            form.name.data = f"{version.rubric.title}, {utcnow():%B %Y}"
    pool = _chosen_raters(form, candidates)
    context = {**_sample_list(district, version), "form": form, "candidates": candidates,
               "n_samples": (queries.round_candidate_count(district.id, version)
                             if version else 0),
               "n_anchors": len(queries.calibration_anchors(version)) if version else 0,
               "unmet_calibration": (queries.unmet_calibration_count(
                   version, [u.id for u in pool]) if version else 0),
               "school_comparison_anchors": services.SCHOOL_COMPARISON_ANCHORS,
               "schools": district.schools, "today": today}
    return form, context


def _chosen_raters(form: RoundForm, candidates) -> list[User]:
    return services.chosen_pool(candidates, form.rater_ids.data or [],
                                form.rater_school_ids.data or [])


def _valid_round_form(form: RoundForm, context: dict) -> bool:
    """The round form sent, it and its sample list valid, and a version to score against."""
    valid = form.validate_on_submit()
    if not form.is_submitted():
        return False
    if context["version"] is None:
        form.form_errors.append("The district has no rubric version ready for scoring yet.")
        return False
    if context["sample_page"] is None:
        form.form_errors.append("Correct the filters of the work samples first.")
        return False
    return valid


def _round_request(form: RoundForm, context: dict) -> services.RoundRequest:
    samples = queries.chosen_samples(context["district"].id, context["sample_filter"],
                                     context["sample_selection"])
    return services.RoundRequest(
        name=form.name.data, version=context["version"], samples=samples,
        raters=_chosen_raters(form, context["candidates"]),
        ratings_per_sample=form.ratings_per_sample.data,
        validity_rate=form.validity_percent.data / 100,
        calibration_size=form.calibration_size.data, seed=form.seed.data,
        due_date=form.due_date.data)


@bp.route("/rounds/new", methods=["GET", "POST"])
@role_required(*ROUND_ROLES)
def new_round():
    form, context = _round_form()
    if _valid_round_form(form, context):
        try:
            scoring_round = services.open_round(context["district"], current_user,
                                                _round_request(form, context))
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


@bp.get("/rounds/new/samples")
@role_required(*ROUND_ROLES)
def round_samples():
    """Another page, filter or selection of the New round form's sample list."""
    district = _round_district()
    if not wants_fragment():
        return redirect(url_for("scoring.new_round", district_id=district.id,
                                rubric_version_id=request.args.get("rubric_version_id",
                                                                   type=int)))
    version = services.round_version(queries.round_versions(district.id),
                                     request.args.get("rubric_version_id", type=int))
    context = _sample_list(district, version)
    status = 422 if version is not None and context["sample_page"] is None else 200
    return render("scoring/new_round.html", "scoring/_round_samples.html", status=status,
                  **context)


@bp.post("/rounds/preview")
@role_required(*ROUND_ROLES)
def preview_round():
    form, context = _round_form()
    design, status = None, 422
    if _valid_round_form(form, context):
        try:
            design = services.plan_round(context["district"], _round_request(form, context),
                                         current_user).summary()
            status = 200
        except services.ScoringError as error:
            form.form_errors.append(str(error))
    return render("scoring/new_round.html", "scoring/_design_preview.html", status=status,
                  design=design, preview=True, **context)


def managed_round_or_404(round_id: int) -> ScoringRound:
    """The round, for someone who manages it (analysis's round views too); 404 for others."""
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
    return render_template("scoring/round.html", **_round_context(managed_round_or_404(round_id)))


@bp.get("/rounds/<int:round_id>/progress")
@role_required(*ROUND_ROLES)
def round_progress(round_id: int):
    return render("scoring/round.html", "scoring/_round_progress.html",
                  **_round_context(managed_round_or_404(round_id)))


@bp.post("/rounds/<int:round_id>/close")
@role_required(*ROUND_ROLES)
def close_round(round_id: int):
    scoring_round = managed_round_or_404(round_id)
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
