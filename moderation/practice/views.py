from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from moderation.accounts.models import Role, User
from moderation.accounts.permissions import role_required
from moderation.core.extensions import db
from moderation.core.htmx import render, wants_fragment
from moderation.core.storage import get_storage, send_stored
from moderation.practice import queries, services
from moderation.practice.models import PracticeAttempt
from moderation.samples import queries as sample_queries
from moderation.samples.models import Anchor
from moderation.samples.processing import FileKind
from moderation.scoring.forms import ScoreSheet

# Practice kept the addresses it had inside scoring, so bookmarks still work.
bp = Blueprint("practice", __name__, url_prefix="/scoring")


def _practice_anchor_or_404(anchor_id: int) -> Anchor:
    anchor = db.get_or_404(Anchor, anchor_id)
    if not queries.can_practise(current_user, anchor):
        abort(404)
    return anchor


@bp.get("/practice")
@role_required(Role.TEACHER)
def show_practice():
    papers = queries.practice_list(current_user)
    return render_template("practice/practice.html",
                           unpractised=[p for p in papers if not p.attempts],
                           practised=[p for p in papers if p.attempts],
                           set_aside=queries.set_aside(current_user),
                           attempts=queries.practice_history(current_user),
                           owner=current_user, own=True,
                           shared=queries.practice_shared_with_coaches(current_user))


def _practice_context(anchor: Anchor, form, sheet, attempt=None) -> dict:
    return {"anchor": anchor, "sample": anchor.sample,
            "text": sample_queries.work_text(anchor.sample, get_storage()),
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
        except services.PracticeError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            try:
                db.session.commit()
            except IntegrityError:  # the same form sent twice at once: the first counts
                db.session.rollback()
                attempt = queries.attempt_by_nonce(form.nonce.data)
            if not wants_fragment():
                return redirect(url_for("practice.show_attempt", attempt_id=attempt.id))
            return render("practice/practice_paper.html", "practice/_practice.html",
                          trigger="practiceRecorded",
                          **_practice_context(anchor, form, sheet, attempt))
    status = 422 if request.method == "POST" else 200
    return render("practice/practice_paper.html", "practice/_practice.html", status=status,
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
    return render_template("practice/attempt.html", anchor=attempt.anchor,
                           version=attempt.anchor.rubric_version,
                           own=attempt.user_id == current_user.id, **_feedback(attempt))


@bp.get("/practice/teachers/<int:user_id>")
@role_required(Role.TEACHER, Role.COACH)
def teacher_practice(user_id: int):
    teacher = db.get_or_404(User, user_id)
    if not queries.can_see_practice_of(current_user, teacher):
        abort(404)
    return render_template("practice/practice_history.html", owner=teacher,
                           attempts=queries.practice_history(teacher),
                           own=teacher.id == current_user.id)


# --- what other pages show of practice -----------------------------------------------------------

bp.add_app_template_filter(queries.paper_name, "practice_paper_name")


@bp.app_template_filter("practice_result")
def practice_result(attempt: PracticeAttempt) -> str:
    """An attempt's agreement in words that describe, never grade: practice is for learning."""
    n, exact, near = attempt.n_criteria, attempt.n_exact, attempt.n_adjacent
    if exact == n:
        return f"All {n} criteria matched the agreed scores."
    matched = f"{exact} of {n} matched the agreed scores" if exact else "None matched exactly"
    if not near:
        return f"{matched}; its feedback shows where the agreed scores sit."
    within = "all" if near == n else f"{near} of {n}"
    return f"{matched}; {within} within one level."


@bp.app_template_global("practice_summary")
def practice_summary(user) -> dict:
    """For the teacher's home page (templates/accounts/teacher_home.html)."""
    return {"papers": len(queries.practice_anchors_for(user)),
            "attempts": queries.attempt_count(user)}


@bp.app_template_global("practice_of_coached")
def practice_of_coached(coach) -> dict:
    """Practice attempts per teacher id, of the teachers whose district shares practice with
    the coach, and whether any of the coach's districts keeps it private (coach_home.html)."""
    teachers, private = queries.coached_practice(coach)
    return {"attempts": {t.user.id: t.attempts for t in teachers}, "private": private}

