from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields import SelectChoice

from moderation.accounts.models import Role, School
from moderation.accounts.permissions import role_required
from moderation.core.errors import render_error
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render, wants_fragment
from moderation.core.storage import get_storage, send_stored
from moderation.samples import permissions, queries, services
from moderation.samples.forms import (
    AnchorPoolForm,
    ClassSetForm,
    ConfirmPurgeForm,
    ConfirmRedactionForm,
    IdentityForm,
    RedactForm,
    UploadForm,
    anchor_sheet,
    local_score_sheet,
)
from moderation.samples.models import Anchor, SampleStatus, WorkSample
from moderation.samples.processing import (
    MAX_REDACTION_BOXES,
    FileKind,
    RedactionError,
    SampleFileError,
)
from rubrics.models import RubricVersion

bp = Blueprint("samples", __name__, url_prefix="/samples")

ALL_STAFF = (Role.TEACHER, Role.COACH, Role.DISTRICT_ADMIN)
# Who may read samples: staff, and school leaders (their school's, read-only).
READERS = (*ALL_STAFF, Role.SCHOOL_LEADER)
STATUS_FILTERS = {"draft": SampleStatus.DRAFT, "ready": SampleStatus.READY}


@bp.errorhandler(services.SampleStateError)
def state_conflict(error):
    if wants_fragment():
        # htmx does not swap a 409: reload the page, which shows the message and where the
        # sample now stands.
        flash(str(error), "warning")
        response = make_response("", 409)
        response.headers["HX-Refresh"] = "true"
        return response
    return render_template("errors/error.html", status=409,
                           title="That cannot be done with this sample now",
                           hint="Open the sample again to see where it stands.",
                           detail=str(error)), 409


@bp.app_errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return render_error(413, f"Files up to {limit} MB can be uploaded. Save the work at a lower "
                             f"resolution or upload only the pages that matter.")


def _sample_or_abort(code: str, allowed: Callable[..., bool]) -> WorkSample:
    sample = queries.sample_by_code(code)
    # External work (an imported past moderation) is known by its scores only: no page of it.
    if sample is None or sample.is_external:
        abort(404)
    if not allowed(current_user, sample):
        abort(403)
    return sample


@bp.get("/")
@role_required(*READERS)
def list_samples():
    status = STATUS_FILTERS.get(request.args.get("status", ""))
    samples = queries.samples_for(current_user, status)
    return render("samples/list.html", "samples/_sample_list.html", samples=samples,
                  status=status, archived=queries.archived_samples_to_purge(current_user),
                  can_upload=bool(permissions.staff_school_ids(current_user)))


def _upload_choices(form) -> list[RubricVersion]:
    """Fill the school and rubric choices of an upload form, starting on the user's own school
    and a rubric for its grade band; 403 for someone with no school to upload to."""
    schools = queries.uploadable_schools(current_user)
    if not schools:
        abort(403)
    versions = queries.versions_for_upload(schools)
    form.school_id.choices = [SelectChoice(s.id, s.name) for s in schools]
    form.rubric_version_id.choices = [SelectChoice(v.id, v.label) for v in versions]
    if not form.is_submitted():
        school = queries.home_school(current_user, schools)
        form.school_id.data = school.id
        if default := queries.default_upload_version(school, versions):
            form.rubric_version_id.data = default.id
    return versions


def _upload_target(form) -> dict:
    """Who uploads, to which school and rubric version, the task, and where the files go."""
    return {"uploader": current_user, "school": db.get_or_404(School, form.school_id.data),
            "rubric_version": db.get_or_404(RubricVersion, form.rubric_version_id.data),
            "title": form.title.data, "storage": get_storage()}


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.TEACHER, Role.COACH)
def upload_sample():
    form = UploadForm()
    versions = _upload_choices(form)

    def upload():
        return services.upload_sample(
            **_upload_target(form), data=form.file.data.read(),
            filename=form.file.data.filename, student_name=form.student_name.data,
            student_local_id=form.student_local_id.data)

    def uploaded(sample: WorkSample):
        flash(f"Uploaded as {sample.code}. Check the work below for names before it can be "
              f"scored.", "success")
        return redirect(url_for("samples.show_sample", code=sample.code))

    return submit(form, upload, refused={SampleFileError: form.file, services.SampleError: None},
                  done=uploaded,
                  invalid=lambda status: render("samples/upload.html",
                                                "samples/_upload_form.html", status=status,
                                                form=form, has_versions=bool(versions)))


@bp.route("/new/class-set", methods=["GET", "POST"])
@role_required(Role.TEACHER, Role.COACH)
def upload_class_set():
    form = ClassSetForm()
    versions = _upload_choices(form)

    def upload():
        return services.upload_class_set(
            **_upload_target(form),
            files=[(upload.filename, upload.read()) for upload in form.files.data])

    def uploaded(result: services.ClassSetResult):
        if not result.refused:
            flash(f"{len(result.samples)} files uploaded, each as its own draft. Say whose "
                  f"work each one is.", "success")
            return redirect(url_for("samples.name_students"))
        # The refused files are listed on this response, not flashed: their names could
        # name students, and the flash travels in the session cookie.
        return render_template(
            "samples/students.html", rows=_student_rows(), refused=result.refused,
            uploaded=len(result.samples)), 200 if result.samples else 422

    return submit(form, upload, refused={services.SampleError: None}, done=uploaded,
                  invalid=lambda status: render(
                      "samples/class_set.html", "samples/_class_set_form.html", status=status,
                      form=form, has_versions=bool(versions),
                      max_files=services.MAX_CLASS_SET_FILES))


def _student_rows() -> list[dict]:
    return [{"sample": sample, "link": link, "form": IdentityForm(prefix=sample.code,
                                                                   formdata=None)}
            for sample, link in queries.drafts_without_student(current_user)]


@bp.get("/students")
@role_required(Role.TEACHER, Role.COACH)
def name_students():
    return render_template("samples/students.html", rows=_student_rows(), refused=[],
                           uploaded=None)


@bp.post("/<code>/student")
@role_required(Role.TEACHER, Role.COACH)
def set_student(code: str):
    sample = _sample_or_abort(code, permissions.can_redact)
    form = IdentityForm(prefix=sample.code)

    def answer(status: int):
        row = {"sample": sample, "link": queries.student_link(sample), "form": form,
               "saved": status == 200}
        return render("samples/students.html", "samples/_student_row.html", status=status,
                      row=row, rows=[row], refused=[], uploaded=None)

    def saved(_):
        if wants_fragment():
            return answer(200)
        flash(f"Saved whose work {sample.code} is. Check it for names next.", "success")
        return redirect(url_for("samples.show_sample", code=sample.code))

    return submit(form, lambda: services.set_identity(
        sample, current_user, student_name=form.student_name.data,
        student_local_id=form.student_local_id.data),
        refused={services.SampleError: None}, done=saved, invalid=answer)


def _sample_context(sample: WorkSample, **extra) -> dict:
    access = permissions.access(current_user, sample)
    context = {"sample": sample, "access": access,
               "text": queries.work_text(sample, get_storage()),
               "redaction_form": ConfirmRedactionForm()}
    if access.identity:
        context["link"] = queries.student_link(sample)
    if access.in_scope:
        context["local"] = queries.current_local_ratings(sample)
        context["anchor"] = queries.anchor_for(sample)
    if access.local_score and "local_form" not in extra:
        scoring = local_score_sheet(sample.rubric_version)
        form = scoring.form(scores={k: r.score for k, r in context["local"].items()})
        context["local_rows"], context["local_form"] = scoring.rows(form), form
    if access.purge:
        context["purge_form"] = ConfirmPurgeForm(prefix="purge")
    return {**context, **extra}


@bp.get("/<code>")
@role_required(*READERS)
def show_sample(code: str):
    sample = _sample_or_abort(code, permissions.can_view_sample)
    return render_template("samples/show.html", **_sample_context(sample))


@bp.get("/<code>/identity")
@role_required(*ALL_STAFF)
def show_identity(code: str):
    sample = _sample_or_abort(code, permissions.can_see_identity)
    return render("samples/identity.html", "samples/_identity.html", sample=sample,
                  link=queries.student_link(sample))


@bp.get("/<code>/name-check")
@role_required(*ALL_STAFF)
def name_check(code: str):
    sample = _sample_or_abort(code, permissions.can_see_identity)
    return render("samples/name_check.html", "samples/_name_check.html", sample=sample,
                  access=permissions.access(current_user, sample),
                  check=queries.name_check(sample, get_storage()))


def _redact_page(sample: WorkSample, forms: dict | None = None, status: int = 200):
    pages = sample.pages if sample.kind == FileKind.PDF else [None]
    forms = forms or {}
    return render_template(
        "samples/redact.html", sample=sample, access=permissions.access(current_user, sample),
        max_boxes=MAX_REDACTION_BOXES,
        page_forms=[(number, forms.get(number) or RedactForm(prefix=f"p{number}",
                                                             formdata=None), page)
                    for number, page in enumerate(pages, start=1)]), status


@bp.get("/<code>/redact")
@role_required(Role.TEACHER, Role.COACH)
def redact_sample(code: str):
    sample = _sample_or_abort(code, permissions.can_redact)
    if sample.kind == FileKind.TEXT:
        abort(404)
    return _redact_page(sample)


@bp.post("/<code>/pages/<int:number>/redact")
@role_required(Role.TEACHER, Role.COACH)
def redact_page(code: str, number: int):
    sample = _sample_or_abort(code, permissions.can_redact)
    form = RedactForm(prefix=f"p{number}")

    def redact():
        boxes = form.boxes(request.form.getlist(f"p{number}-box"))
        return boxes, services.redact_page(sample, current_user, number, boxes, get_storage())

    def redacted(outcome):
        boxes, changed = outcome
        flash(f"Page {number}: {len(boxes)} box{'es' if len(boxes) != 1 else ''} blacked "
              f"out for good." if changed else
              f"Page {number} already had those parts blacked out.", "success")
        return redirect(url_for("samples.redact_sample", code=sample.code))

    return submit(form, redact, refused={RedactionError: None, services.SampleError: None},
                  done=redacted,
                  invalid=lambda status: _redact_page(sample, {number: form}, status))


@bp.get("/<code>/pages/<int:number>.png")
@role_required(*READERS)
def page_image(code: str, number: int):
    sample = _sample_or_abort(code, permissions.can_view_sample)
    page = next((p for p in sample.pages if p.number == number), None)
    if page is None:
        abort(404)
    return send_stored(page.storage_key, "image/png")


@bp.get("/<code>/image")
@role_required(*READERS)
def sample_image(code: str):
    sample = _sample_or_abort(code, permissions.can_view_sample)
    if sample.kind not in (FileKind.PNG, FileKind.JPEG):
        abort(404)
    return send_stored(sample.storage_key, sample.content_type)


@bp.get("/<code>/download")
@role_required(*ALL_STAFF)
def download_sample(code: str):
    sample = _sample_or_abort(code, permissions.is_in_scope)
    return redirect(get_storage().url_for_download(sample.storage_key, sample.download_name))


@bp.route("/<code>/local-score", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def record_local_score(code: str):
    sample = _sample_or_abort(code, permissions.can_record_local_score)
    scoring = local_score_sheet(sample.rubric_version)
    form = scoring.form(scores={k: r.score for k, r in
                                queries.current_local_ratings(sample).items()})

    def answer(status: int, saved: bool = False):
        return render("samples/local_score.html", "samples/_local_score.html", status=status,
                      trigger="localScoreSaved" if saved else None,
                      **_sample_context(sample, local_form=form, local_rows=scoring.rows(form),
                                        local_saved=saved))

    return submit(form, lambda: services.record_local_scores(sample, current_user,
                                                             scoring.scores(form)),
                  refused={services.SampleError: None},
                  done=lambda _: answer(200, saved=True), invalid=answer)


@bp.post("/<code>/confirm")
@role_required(Role.TEACHER, Role.COACH)
def confirm_redaction(code: str):
    sample = _sample_or_abort(code, permissions.can_confirm_redaction)
    form = ConfirmRedactionForm()

    def answer(status: int):
        return render("samples/show.html", "samples/_status.html", status=status,
                      trigger="sampleReady" if status == 200 else None,
                      **_sample_context(sample, redaction_form=form))

    def confirmed(_):
        if wants_fragment():
            return answer(200)
        flash(f"{sample.code} is ready for scoring.", "success")
        return redirect(url_for("samples.show_sample", code=sample.code))

    return submit(form, lambda: services.confirm_redaction(sample, current_user),
                  refused={services.SampleError: form.confirmed}, done=confirmed,
                  invalid=answer)


@bp.route("/<code>/anchor", methods=["GET", "POST"])
@role_required(Role.COACH, Role.DISTRICT_ADMIN)
def promote_anchor(code: str):
    sample = _sample_or_abort(code, permissions.can_promote_anchor)
    scoring = anchor_sheet(sample.rubric_version)
    form = scoring.form()

    def promoted(anchor: Anchor):
        flash(f"{sample.code} is now an anchor paper for {sample.rubric_version.label}.",
              "success")
        return redirect(url_for("samples.show_anchor", anchor_id=anchor.id))

    return submit(form, lambda: services.promote_to_anchor(
        sample, current_user, scoring.scores(form), scoring.notes(form), form.pool.data),
        refused={services.SampleError: None}, done=promoted,
        invalid=lambda status: render(
            "samples/promote.html", "samples/_promote_form.html", status=status,
            **_sample_context(sample, anchor_form=form, anchor_rows=scoring.rows(form))))


@bp.post("/<code>/delete")
@role_required(*ALL_STAFF)
def delete_sample(code: str):
    sample = _sample_or_abort(code, permissions.can_manage_sample)
    outcome = services.delete_sample(sample, current_user, get_storage())
    db.session.commit()
    if outcome == SampleStatus.ARCHIVED:
        flash(f"{code} has scores, so it is archived instead of deleted: it leaves every list "
              f"and queue but its scores stay in the statistics.", "info")
    else:
        flash(f"{code} is deleted, with its files and the link to the student.", "success")
    return redirect(url_for("samples.list_samples"))


@bp.post("/<code>/purge")
@role_required(Role.DISTRICT_ADMIN)
def purge_sample(code: str):
    sample = _sample_or_abort(code, permissions.can_purge)
    form = ConfirmPurgeForm(prefix="purge")
    if not form.validate_on_submit():
        abort(422, "Tick the box to confirm the purge.")
    counts = services.purge_sample(sample, current_user, get_storage())
    db.session.commit()
    flash(f"{code} is purged with {counts['ratings']} score(s) and {counts['anchors']} anchor "
          f"paper(s).", "success")
    return redirect(url_for("samples.list_samples"))


@bp.get("/anchors")
@role_required(Role.COACH, Role.DISTRICT_ADMIN)
def list_anchors():
    return render_template("samples/anchors.html", anchors=queries.anchors_for(current_user))


def _anchor_or_abort(anchor_id: int) -> Anchor:
    anchor = db.get_or_404(Anchor, anchor_id)
    if anchor.sample.is_external:  # the agreed scores of imported work: no paper to show
        abort(404)
    if not permissions.can_promote_anchor(current_user, anchor.sample):
        abort(403)
    return anchor


def _anchor_context(anchor: Anchor, **extra) -> dict:
    return _sample_context(anchor.sample, anchor=anchor,
                           anchor_scores={s.criterion_id: s for s in anchor.scores},
                           pool_form=extra.pop("pool_form", None)
                           or AnchorPoolForm(formdata=None, pool=anchor.pool.value), **extra)


@bp.get("/anchors/<int:anchor_id>")
@role_required(Role.COACH, Role.DISTRICT_ADMIN)
def show_anchor(anchor_id: int):
    return render_template("samples/anchor.html", **_anchor_context(_anchor_or_abort(anchor_id)))


@bp.post("/anchors/<int:anchor_id>/pool")
@role_required(Role.COACH, Role.DISTRICT_ADMIN)
def move_anchor(anchor_id: int):
    anchor = _anchor_or_abort(anchor_id)
    form = AnchorPoolForm()
    if not form.validate_on_submit():
        return render("samples/anchor.html", "samples/_anchor_pool.html", status=422,
                      **_anchor_context(anchor, pool_form=form))
    moved = services.move_anchor(anchor, current_user, form.pool.data)
    db.session.commit()
    message = (f"{anchor.sample.code} is now a {anchor.pool.label.lower()} anchor." if moved
               else "Unchanged.")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("samples.show_anchor", anchor_id=anchor.id))
    return render("samples/anchor.html", "samples/_anchor_pool.html", pool_message=message,
                  **_anchor_context(anchor))
