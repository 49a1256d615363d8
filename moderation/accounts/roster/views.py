"""The district administrator's roster pages: upload (the dry run), the plan, apply."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from moderation.accounts.models import District, Role
from moderation.accounts.permissions import district_ids, role_required
from moderation.accounts.roster import services
from moderation.accounts.roster.cli import change_words
from moderation.accounts.roster.forms import ApplyForm, UploadForm
from moderation.accounts.roster.models import ImportStatus, RosterImport
from moderation.core.extensions import db

bp = Blueprint("roster", __name__, url_prefix="/district/<int:district_id>/roster")
# A page lists this many of each kind (problems, new people...) and counts the rest.
SHOWN = 200


def _district(district_id: int) -> District:
    district = db.get_or_404(District, district_id)
    if district.id not in district_ids(current_user, Role.DISTRICT_ADMIN):
        abort(403)
    return district


def _import(district: District, import_id: int) -> RosterImport:
    kept = db.session.get(RosterImport, import_id)
    if kept is None or kept.district_id != district.id:
        abort(404)
    return kept


def _page(template: str, status: int = 200, **context):
    return render_template(template, shown=SHOWN, change_words=change_words,
                           **context), status


@bp.route("", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def upload(district_id: int):
    district = _district(district_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page("roster/upload.html", 422 if form.is_submitted() else 200,
                     district=district, form=form, plan=None)
    uploads = [(f.filename or "upload.csv", f.read()) for f in request.files.getlist("files")
               if f and (f.filename or f.content_length)]
    kept, plan = services.upload(district, current_user, uploads)
    if kept is None:
        db.session.rollback()
        return _page("roster/upload.html", 422, district=district, form=form, plan=plan)
    db.session.commit()
    return redirect(url_for("roster.show_import", district_id=district.id, import_id=kept.id))


@bp.get("/<int:import_id>")
@role_required(Role.DISTRICT_ADMIN)
def show_import(district_id: int, import_id: int):
    district = _district(district_id)
    kept = _import(district, import_id)
    if kept.status == ImportStatus.APPLIED:
        return _page("roster/applied.html", district=district, kept=kept)
    try:
        plan = services.replan(kept, district, current_user)
    except services.RosterError as error:
        return _page("roster/upload.html", 409, district=district, form=UploadForm(),
                     plan=None, error=str(error))
    return _page("roster/plan.html", district=district, kept=kept, plan=plan,
                 form=ApplyForm(formdata=None, plan=plan.digest()))


@bp.post("/<int:import_id>/apply")
@role_required(Role.DISTRICT_ADMIN)
def apply_import(district_id: int, import_id: int):
    district = _district(district_id)
    kept = _import(district, import_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    again = redirect(url_for("roster.show_import", district_id=district.id, import_id=kept.id))
    try:
        plan = services.apply(kept, district, current_user, seen=form.plan.data or None)
        db.session.commit()
    except (services.RosterProblems, services.PlanChanged) as error:
        db.session.rollback()
        return _page("roster/plan.html", 409, district=district, kept=kept, plan=error.plan,
                     form=ApplyForm(formdata=None, plan=error.plan.digest()), error=str(error))
    except services.RosterError as error:
        db.session.rollback()
        flash(str(error), "error")
        return again
    except IntegrityError:
        # Someone added the same person or school at the same moment: nothing was applied.
        db.session.rollback()
        flash("Someone changed the district's people or schools at the same moment, so "
              "nothing was applied. Read the dry run again.", "error")
        return again
    counts = plan.counts()
    flash(f"Roster applied: {counts['new_people']} people added, {counts['changed_people']} "
          f"changed, {counts['deactivated']} deactivated.", "success")
    return again
