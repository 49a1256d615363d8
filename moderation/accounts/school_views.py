"""The district administrator's schools pages: the list, a new school, editing one, archiving
it, and the context measures the district records."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.accounts import queries, schools
from moderation.accounts.models import District, MeasureUnit, Role, School
from moderation.accounts.permissions import district_ids, role_required
from moderation.accounts.school_forms import ArchiveForm, MeasureForm, SchoolForm
from moderation.core.extensions import db
from moderation.core.forms import submit

bp = Blueprint("schools", __name__)


def _administered(district_id: int) -> District:
    district = db.get_or_404(District, district_id)
    if district.id not in district_ids(current_user, Role.DISTRICT_ADMIN):
        abort(403)
    return district


def _school_administered(school_id: int) -> School:
    school = db.get_or_404(School, school_id)
    _administered(school.district_id)
    return school


def _list_page(district: District, measure_form: MeasureForm, status: int = 200):
    return render_template(
        "accounts/schools.html", district=district, measure_form=measure_form,
        measures=queries.context_measures(district.id),
        active=queries.schools_of(district.id, archived=False),
        archived=queries.schools_of(district.id, archived=True)), status


@bp.get("/district/<int:district_id>/schools")
@role_required(Role.DISTRICT_ADMIN)
def list_schools(district_id: int):
    return _list_page(_administered(district_id), MeasureForm(formdata=None))


@bp.post("/district/<int:district_id>/context-measures")
@role_required(Role.DISTRICT_ADMIN)
def add_measure(district_id: int):
    district = _administered(district_id)
    form = MeasureForm()

    def done(measure):
        flash(f"{district.name} now records “{measure.label}” for every school.", "success")
        return redirect(url_for("schools.list_schools", district_id=district.id))

    return submit(form, lambda: schools.add_measure(
        district, current_user, form.label.data, MeasureUnit(form.unit.data),
        form.description.data or ""),
        refused={schools.SchoolError: form.label}, done=done,
        invalid=lambda status: _list_page(district, form, status),
        raced=lambda: "That measure was added a moment ago; see it in the list.")


def _school_page(district: District, form: SchoolForm, school: School | None, status: int):
    return render_template("accounts/school_form.html", district=district, form=form,
                           school=school, first_year=schools.FIRST_YEAR,
                           last_year=schools.last_year()), status


def _raced() -> str:
    # Two saves at once (a double click, or two administrators) met a unique name or figure.
    return "The same school was saved a moment ago; check the list and try again."


@bp.route("/district/<int:district_id>/schools/new", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def new_school(district_id: int):
    district = _administered(district_id)
    form = SchoolForm(queries.context_measures(district.id))

    def done(school):
        flash(f"{school.name} is added to {district.name}.", "success")
        return redirect(url_for("schools.list_schools", district_id=district.id))

    return submit(form, lambda: schools.create_school(
        district, current_user, form.name.data, form.grade_band.data, form.figures()),
        refused={schools.SchoolError: None}, done=done,
        invalid=lambda status: _school_page(district, form, None, status), raced=_raced)


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def edit_school(school_id: int):
    school = _school_administered(school_id)
    measures = queries.context_measures(school.district_id)
    form = SchoolForm(measures, school)

    def done(changed):
        flash(f"{school.name} is saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("schools.list_schools", district_id=school.district_id))

    return submit(form, lambda: schools.edit_school(
        school, current_user, form.name.data, form.grade_band.data, form.figures()),
        refused={schools.SchoolError: None}, done=done,
        invalid=lambda status: _school_page(school.district, form, school, status),
        raced=_raced)


def _set_archived(school_id: int, archived: bool):
    school = _school_administered(school_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    schools.set_archived(school, current_user, archived)
    db.session.commit()
    flash(f"{school.name} is archived: it is no longer offered for uploads or new rounds; its "
          "samples, scores and people are kept." if archived
          else f"{school.name} is active again.", "success")
    return redirect(url_for("schools.list_schools", district_id=school.district_id))


@bp.post("/schools/<int:school_id>/archive")
@role_required(Role.DISTRICT_ADMIN)
def archive_school(school_id: int):
    return _set_archived(school_id, True)


@bp.post("/schools/<int:school_id>/unarchive")
@role_required(Role.DISTRICT_ADMIN)
def unarchive_school(school_id: int):
    return _set_archived(school_id, False)
