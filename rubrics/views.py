"""The rubric library and builder.

Every page of a version is rendered from one context (_version_context), so a write that fails
validation can answer with the fragment it was asked for, or the whole page with the form and
its messages in place when JavaScript is off. Writes to a frozen version answer 409 with the
plain-language reason (see the RubricFrozenError handler).
"""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from moderation.accounts.models import District
from moderation.accounts.permissions import role_required
from moderation.core.extensions import db, htmx
from moderation.core.forms import submit
from moderation.core.htmx import render
from rubrics import forms, jsonformat, queries, services
from rubrics.errors import RubricError, RubricFrozenError
from rubrics.models import Criterion, Level, Rubric, RubricVersion

bp = Blueprint("rubrics", __name__, url_prefix="/rubrics")

VERSION_PAGE = "rubrics/version.html"
LIST_PAGE = "rubrics/index.html"
# Response events: regions of the version page listen for these and refresh themselves.
CRITERIA_CHANGED = "criteriaChanged"
RUBRIC_CHANGED = "rubricChanged"


# --- loading and access ---------------------------------------------------------------------

def _viewable(rubric: Rubric) -> Rubric:
    # Outside the user's districts a rubric does not exist, as far as they can tell.
    if not queries.can_view(current_user, rubric):
        abort(404)
    return rubric


def _for_editing(rubric: Rubric) -> Rubric:
    _viewable(rubric)
    if not queries.can_edit(current_user, rubric):
        abort(403)
    return rubric


def _version(version_id: int) -> RubricVersion:
    version = db.get_or_404(RubricVersion, version_id)
    _for_editing(version.rubric)
    services.ensure_editable(version)
    return version


def _criterion(criterion_id: int) -> Criterion:
    criterion = db.get_or_404(Criterion, criterion_id)
    _for_editing(criterion.version.rubric)
    services.ensure_editable(criterion.version)
    return criterion


def _level(level_id: int) -> Level:
    level = db.get_or_404(Level, level_id)
    _for_editing(level.criterion.version.rubric)
    services.ensure_editable(level.criterion.version)
    return level


def _district_choices(roles) -> list[tuple[int, str]]:
    ids = queries.district_ids_for(current_user, roles)
    districts = db.session.execute(
        db.select(District).where(District.id.in_(ids)).order_by(District.name)).scalars()
    return [(d.id, d.name) for d in districts]


def _direction() -> int:
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, "Choose to move up or down.")
    return -1 if direction == "up" else 1


# --- the frozen rule, as the user meets it ----------------------------------------------------

@bp.errorhandler(RubricFrozenError)
def refuse_frozen(error: RubricFrozenError):
    db.session.rollback()
    version = db.session.get(RubricVersion, error.version_id)
    context = {"version": version, "rubric": version.rubric, "frozen_message": str(error),
               "draft": queries.newer_draft(version), "can_edit": True,
               "next_number": services.next_number(version.rubric_id),
               "next_version_form": forms.NextVersionForm(prefix="next", formdata=None)}
    if htmx:
        # htmx does not swap a 409; reload the page so the user sees the frozen version with
        # this message and the button to create the next version.
        flash("Your change was not saved: this version is now in use for scoring.", "warning")
        return make_response(render_template("rubrics/_frozen_notice.html", **context), 409,
                             refresh=True)
    return render_template("rubrics/frozen.html", **context), 409


def _changed(version: RubricVersion, fragment: str, *, trigger: str = RUBRIC_CHANGED,
             anchor: str = "", **context):
    """After a successful write: the updated fragment for htmx, else back to the page."""
    if not htmx:
        return redirect(_version_url(version) + anchor, 303)
    return render(VERSION_PAGE, fragment, trigger=trigger, **_version_context(version, **context))


def _invalid(version: RubricVersion, fragment: str, **context):
    return render(VERSION_PAGE, fragment, status=422, **_version_context(version, **context))


def _submit(form, action, *, version: RubricVersion, fragment: str, error_field: str,
            ok: dict | None = None, failed: dict | None = None):
    """Validate `form`, run the service call `action`, commit once, and answer with `fragment`:
    updated, or with the messages (422) when the form or a rubric rule says no."""
    return submit(form, action, refused={RubricError: form[error_field]},
                  done=lambda _: _changed(version, fragment, **(ok or {})),
                  invalid=lambda _: _invalid(version, fragment, **(failed or {})))


def _version_url(version: RubricVersion) -> str:
    return url_for("rubrics.show_version", rubric_id=version.rubric_id, number=version.number)


def _version_context(version: RubricVersion, *, forms_by_key: dict | None = None,
                     errors: dict | None = None, add_criterion_form=None,
                     details_form=None, open_add_level: int | None = None, **extra) -> dict:
    """Everything the version page and its fragments need. `forms_by_key` puts a criterion
    ("criterion-<id>"), a level ("level-<id>") or a new level ("new-level-<criterion id>") in
    edit mode with that form; `errors` carries messages not tied to a field; `extra` goes to
    the template as it is (the criterion or level a fragment shows)."""
    rubric = version.rubric
    can_edit = queries.can_edit(current_user, rubric)
    draft = queries.newer_draft(version) if version.is_frozen else None

    def new_level_form(criterion: Criterion):
        key = f"new-level-{criterion.id}"
        if forms_by_key and key in forms_by_key:
            return forms_by_key[key]
        form = forms.LevelForm(prefix=key, formdata=None,
                               data=queries.suggested_level(criterion))
        if criterion.id == open_add_level:
            form.descriptor.render_kw = {"autofocus": True}
        return form

    # The read-only grid: one column per score, headed by the label most criteria use.
    labels: dict[int, list[str]] = {}
    for criterion in version.criteria:
        for level in criterion.levels:
            labels.setdefault(level.score, []).append(level.label)
    grid_labels = {score: max(names, key=names.count)
                   for score, names in sorted(labels.items())}

    return {
        "rubric": rubric,
        "version": version,
        "versions": rubric.versions,
        "can_edit": can_edit,
        "editable": can_edit and not version.is_frozen,
        "draft": draft,
        "frozen_message": (services.frozen_message(version)
                           if version.is_frozen and can_edit else None),
        "score_count": queries.score_count(version),
        "problems": queries.version_problems(version),
        "forms_by_key": forms_by_key or {},
        "errors": errors or {},
        "add_criterion_form": add_criterion_form or forms.CriterionForm(prefix="new-criterion",
                                                                        formdata=None),
        "details_form": details_form,
        "new_level_form": new_level_form,
        "open_add_level": open_add_level,
        "grid_labels": grid_labels,
        "next_number": services.next_number(rubric.id),
        "next_version_form": forms.NextVersionForm(prefix="next", formdata=None),
        **extra,
    }


# --- the library ----------------------------------------------------------------------------

def _list_context(new_form=None, import_form=None) -> dict:
    editor_choices = _district_choices(queries.EDITOR_ROLES)
    if new_form is None:
        new_form = forms.NewRubricForm(prefix="new", formdata=None)
    if import_form is None:
        import_form = forms.ImportForm(prefix="import", formdata=None)
    new_form.district_id.choices = editor_choices
    import_form.district_id.choices = editor_choices
    districts = [(name, queries.rubrics_for_district(district_id))
                 for district_id, name in _district_choices(queries.VIEWER_ROLES)]
    return {"districts": districts, "can_create": bool(editor_choices), "new_form": new_form,
            "import_form": import_form}


@bp.get("/")
@role_required(*queries.VIEWER_ROLES)
def list_rubrics():
    return render_template(LIST_PAGE, **_list_context())


def _from_the_list(form, action, *, field, fragment: str, form_name: str, saved):
    """A write from the rubric list (a new rubric, an import): on to the new version's page
    with the `saved(version)` message, or the list's form again with its messages."""

    def done(version: RubricVersion):
        flash(saved(version), "success")
        return _go(_version_url(version))

    return submit(form, action, refused={RubricError: field}, done=done,
                  invalid=lambda status: render(LIST_PAGE, fragment, status=status,
                                                **_list_context(**{form_name: form})))


@bp.post("/new")
@role_required(*queries.EDITOR_ROLES)
def create_rubric():
    form = forms.NewRubricForm(prefix="new")
    form.district_id.choices = _district_choices(queries.EDITOR_ROLES)
    return _from_the_list(
        form, lambda: services.create_rubric(
            form.district_id.data, title=form.title.data, subject=form.subject.data,
            grade_band=form.grade_band.data, description=form.description.data,
            actor=current_user),
        field=form.title, fragment="rubrics/_new_rubric.html", form_name="new_form",
        saved=lambda version: f"“{version.rubric.title}” is created. Add its criteria below.")


@bp.post("/import")
@role_required(*queries.EDITOR_ROLES)
def import_rubric():
    form = forms.ImportForm(prefix="import")
    form.district_id.choices = _district_choices(queries.EDITOR_ROLES)
    return _from_the_list(
        form, lambda: services.import_rubric(
            jsonformat.parse(form.file.data.read(jsonformat.MAX_FILE_BYTES + 1)),
            form.district_id.data, current_user, as_new_version=form.as_new_version.data),
        field=form.file, fragment="rubrics/_import.html", form_name="import_form",
        saved=lambda version: f"Imported “{version.rubric.title}” as version "
                              f"{version.number}.")


def _go(url: str):
    """Redirect a normal request; ask htmx to load the page instead of swapping it in."""
    if htmx:
        return make_response("", 200, redirect=url)
    return redirect(url, 303)


# --- one rubric -----------------------------------------------------------------------------

@bp.get("/<int:rubric_id>")
@role_required(*queries.VIEWER_ROLES)
def show_rubric(rubric_id: int):
    rubric = _viewable(db.get_or_404(Rubric, rubric_id))
    latest = queries.latest_version(rubric)
    if latest is None:
        abort(404)
    return redirect(_version_url(latest))


@bp.get("/<int:rubric_id>/versions/<int:number>")
@role_required(*queries.VIEWER_ROLES)
def show_version(rubric_id: int, number: int):
    _viewable(db.get_or_404(Rubric, rubric_id))
    version = queries.version_by_number(rubric_id, number)
    if version is None:
        abort(404)
    return render_template(VERSION_PAGE, **_version_context(version))


@bp.get("/<int:rubric_id>/versions/<int:number>/export.json")
@role_required(*queries.VIEWER_ROLES)
def export_version(rubric_id: int, number: int):
    _viewable(db.get_or_404(Rubric, rubric_id))
    version = queries.version_by_number(rubric_id, number)
    if version is None:
        abort(404)
    return Response(jsonformat.dumps(version), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{jsonformat.download_name(version)}"'})


@bp.post("/versions/<int:version_id>/next")
@role_required(*queries.EDITOR_ROLES)
def create_version(version_id: int):
    version = db.get_or_404(RubricVersion, version_id)
    _for_editing(version.rubric)
    form = forms.NextVersionForm(prefix="next")
    if not form.validate_on_submit():
        abort(400, "The note on what will change is too long (500 characters at most).")
    try:
        new = services.create_next_version(version, current_user, form.change_note.data)
    except RubricError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return _go(_version_url(queries.newer_draft(version) or version))
    db.session.commit()
    flash(f"Version {new.number} is a copy of version {version.number}. Make your changes "
          f"here; version {version.number} and everything scored with it stay as they are.",
          "success")
    return _go(_version_url(new))


@bp.get("/<int:rubric_id>/details")
@role_required(*queries.VIEWER_ROLES)
def show_details(rubric_id: int):
    rubric = _viewable(db.get_or_404(Rubric, rubric_id))
    return render(VERSION_PAGE, "rubrics/_details.html",
                  **_version_context(queries.latest_version(rubric)))


@bp.get("/<int:rubric_id>/details/edit")
@role_required(*queries.EDITOR_ROLES)
def edit_details(rubric_id: int):
    rubric = _for_editing(db.get_or_404(Rubric, rubric_id))
    form = forms.RubricDetailsForm(prefix="details", formdata=None, obj=rubric)
    return render(VERSION_PAGE, "rubrics/_details.html",
                  **_version_context(queries.latest_version(rubric), details_form=form))


@bp.post("/<int:rubric_id>/details")
@role_required(*queries.EDITOR_ROLES)
def update_details(rubric_id: int):
    rubric = _for_editing(db.get_or_404(Rubric, rubric_id))
    version = queries.latest_version(rubric)
    form = forms.RubricDetailsForm(prefix="details")
    return _submit(form, lambda: services.update_rubric_details(
        rubric, title=form.title.data, subject=form.subject.data,
        grade_band=form.grade_band.data, description=form.description.data, actor=current_user),
        version=version, fragment="rubrics/_details.html", error_field="title",
        failed={"details_form": form})


@bp.get("/versions/<int:version_id>/status")
@role_required(*queries.VIEWER_ROLES)
def version_status(version_id: int):
    version = db.get_or_404(RubricVersion, version_id)
    _viewable(version.rubric)
    return render(VERSION_PAGE, "rubrics/_status.html", **_version_context(version))


# --- criteria -------------------------------------------------------------------------------

def _criterion_fields(form: forms.CriterionForm) -> dict:
    return {"name": form.name.data, "description": form.description.data,
            "student_friendly": form.student_friendly.data,
            "standard_codes": form.standard_codes.data}


@bp.get("/versions/<int:version_id>/criteria")
@role_required(*queries.VIEWER_ROLES)
def list_criteria(version_id: int):
    version = db.get_or_404(RubricVersion, version_id)
    _viewable(version.rubric)
    return render(VERSION_PAGE, "rubrics/_criteria.html", **_version_context(version))


@bp.post("/versions/<int:version_id>/criteria")
@role_required(*queries.EDITOR_ROLES)
def add_criterion(version_id: int):
    version = _version(version_id)
    form = forms.CriterionForm(prefix="new-criterion")
    # The form comes back empty after an add, or with its messages, focused for the next one.
    fresh = forms.CriterionForm(prefix="new-criterion", formdata=None)
    for focused in (form, fresh):
        focused.name.render_kw = {"autofocus": True}
    return _submit(form, lambda: services.add_criterion(version, **_criterion_fields(form)),
                   version=version, fragment="rubrics/_add_criterion.html", error_field="name",
                   ok={"trigger": f"{CRITERIA_CHANGED}, {RUBRIC_CHANGED}",
                       "anchor": "#criteria", "add_criterion_form": fresh},
                   failed={"add_criterion_form": form})


@bp.get("/criteria/<int:criterion_id>")
@role_required(*queries.VIEWER_ROLES)
def show_criterion(criterion_id: int):
    criterion = db.get_or_404(Criterion, criterion_id)
    _viewable(criterion.version.rubric)
    return render(VERSION_PAGE, "rubrics/_criterion.html", criterion=criterion,
                  **_version_context(criterion.version))


@bp.get("/criteria/<int:criterion_id>/edit")
@role_required(*queries.EDITOR_ROLES)
def edit_criterion(criterion_id: int):
    criterion = _criterion(criterion_id)
    key = f"criterion-{criterion.id}"
    form = forms.CriterionForm(prefix=key, formdata=None, obj=criterion)
    return render(VERSION_PAGE, "rubrics/_criterion.html", criterion=criterion,
                  **_version_context(criterion.version, forms_by_key={key: form}))


@bp.post("/criteria/<int:criterion_id>")
@role_required(*queries.EDITOR_ROLES)
def update_criterion(criterion_id: int):
    criterion = _criterion(criterion_id)
    version = criterion.version
    key = f"criterion-{criterion.id}"
    form = forms.CriterionForm(prefix=key)
    return _submit(form, lambda: services.update_criterion(criterion, **_criterion_fields(form)),
                   version=version, fragment="rubrics/_criterion.html", error_field="name",
                   ok={"criterion": criterion, "anchor": f"#{key}"},
                   failed={"criterion": criterion, "forms_by_key": {key: form}})


def _button_write(version: RubricVersion, action, fragment: str, error_key: str, **shown):
    """A write behind a single button (move, remove, mark proficient): commit and answer with
    the updated `fragment`, or with it and the reason (422) when a rubric rule says no."""
    try:
        action()
    except RubricError as error:
        db.session.rollback()
        return _invalid(version, fragment, errors={error_key: str(error)}, **shown)
    db.session.commit()
    return _changed(version, fragment, anchor=f"#{error_key}", **shown)


def _criteria_write(criterion: Criterion, action):
    return _button_write(criterion.version, action, "rubrics/_criteria.html", "criteria")


@bp.post("/criteria/<int:criterion_id>/move")
@role_required(*queries.EDITOR_ROLES)
def move_criterion(criterion_id: int):
    criterion = _criterion(criterion_id)
    offset = _direction()
    return _criteria_write(criterion, lambda: services.move_criterion(criterion, offset))


@bp.post("/criteria/<int:criterion_id>/delete")
@role_required(*queries.EDITOR_ROLES)
def delete_criterion(criterion_id: int):
    criterion = _criterion(criterion_id)
    return _criteria_write(criterion,
                           lambda: services.delete_criterion(criterion, actor=current_user))


# --- levels ---------------------------------------------------------------------------------

def _level_fields(form: forms.LevelForm) -> dict:
    return {"score": form.score.data, "label": form.label.data,
            "descriptor": form.descriptor.data, "student_friendly": form.student_friendly.data,
            "is_proficient": form.is_proficient.data}


@bp.post("/criteria/<int:criterion_id>/levels")
@role_required(*queries.EDITOR_ROLES)
def add_level(criterion_id: int):
    criterion = _criterion(criterion_id)
    version = criterion.version
    key = f"new-level-{criterion.id}"
    form = forms.LevelForm(prefix=key)
    shown = {"criterion": criterion, "open_add_level": criterion.id}
    return _submit(form, lambda: services.add_level(criterion, **_level_fields(form)),
                   version=version, fragment="rubrics/_criterion.html", error_field="score",
                   ok={**shown, "anchor": f"#criterion-{criterion.id}"},
                   failed={**shown, "forms_by_key": {key: form}})


@bp.get("/levels/<int:level_id>")
@role_required(*queries.VIEWER_ROLES)
def show_level(level_id: int):
    level = db.get_or_404(Level, level_id)
    _viewable(level.criterion.version.rubric)
    return render(VERSION_PAGE, "rubrics/_level.html", level=level, criterion=level.criterion,
                  **_version_context(level.criterion.version))


@bp.get("/levels/<int:level_id>/edit")
@role_required(*queries.EDITOR_ROLES)
def edit_level(level_id: int):
    level = _level(level_id)
    key = f"level-{level.id}"
    form = forms.LevelForm(prefix=key, formdata=None, obj=level)
    return render(VERSION_PAGE, "rubrics/_level.html", level=level, criterion=level.criterion,
                  **_version_context(level.criterion.version, forms_by_key={key: form}))


@bp.post("/levels/<int:level_id>")
@role_required(*queries.EDITOR_ROLES)
def update_level(level_id: int):
    level = _level(level_id)
    criterion = level.criterion
    key = f"level-{level.id}"
    form = forms.LevelForm(prefix=key)
    return _submit(form, lambda: services.update_level(level, **_level_fields(form)),
                   version=criterion.version, fragment="rubrics/_criterion.html",
                   error_field="score",
                   ok={"criterion": criterion, "anchor": f"#criterion-{criterion.id}"},
                   failed={"criterion": criterion, "forms_by_key": {key: form}})


def _level_write(level: Level, action):
    criterion = level.criterion
    return _button_write(criterion.version, action, "rubrics/_criterion.html",
                         f"criterion-{criterion.id}", criterion=criterion)


@bp.post("/levels/<int:level_id>/move")
@role_required(*queries.EDITOR_ROLES)
def move_level(level_id: int):
    level = _level(level_id)
    offset = _direction()
    return _level_write(level, lambda: services.move_level(level, offset))


@bp.post("/levels/<int:level_id>/proficient")
@role_required(*queries.EDITOR_ROLES)
def mark_proficient(level_id: int):
    level = _level(level_id)
    return _level_write(level, lambda: services.set_proficient(level))


@bp.post("/levels/<int:level_id>/delete")
@role_required(*queries.EDITOR_ROLES)
def delete_level(level_id: int):
    level = _level(level_id)
    return _level_write(level, lambda: services.delete_level(level, actor=current_user))
