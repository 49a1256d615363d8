"""The district administrator's people pages: list, new, edit, roles, invite, deactivate."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.accounts import people, tokens
from moderation.accounts.forms import NewPersonForm, PersonForm, RoleForm
from moderation.accounts.models import District, Membership, Role, School
from moderation.accounts.permissions import district_ids, role_required
from moderation.accounts.services import AccountError
from moderation.core.errors import render_error
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render

bp = Blueprint("people", __name__, url_prefix="/district/<int:district_id>/people")


def _district(district_id: int) -> District:
    district = db.get_or_404(District, district_id)
    if district.id not in district_ids(current_user, Role.DISTRICT_ADMIN):
        abort(403)
    return district


def _person(district: District, user_id: int):
    person = people.person_in_district(user_id, district.id)
    if person is None:
        abort(404)
    return person


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def _filters(schools: list[School]) -> people.PeopleFilters:
    """The list's filters from the query string; what cannot be read is ignored, so an old
    or hand-edited address still shows a list."""
    school_id = _number(request.args.get("school"))
    role = request.args.get("role")
    return people.PeopleFilters(
        search=(request.args.get("q") or "")[:200],
        school_id=school_id if school_id in {s.id for s in schools} else None,
        role=Role(role) if role in Role._value2member_map_ else None,
        page=_number(request.args.get("page")) or 1)


def _school(district: District, value: str | None) -> School | None:
    school_id = _number(value)
    if school_id is None:
        return None
    school = db.session.get(School, school_id)
    if school is None or school.district_id != district.id:
        raise AccountError("Choose one of the district's schools.")
    return school


@bp.get("")
@role_required(Role.DISTRICT_ADMIN)
def list_people(district_id: int):
    district = _district(district_id)
    schools = people.schools_of(district.id)
    filters = _filters(schools)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    results = people.people_page(district.id, filters)
    return render("accounts/people.html", "accounts/_people_results.html", district=district,
                  filters=filters, results=results, schools=schools, roles=list(Role),
                  query=query, invited=tokens.invited_among([p.id for p in results.people]))


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def new_person(district_id: int):
    district = _district(district_id)
    form = NewPersonForm(people.schools_of(district.id))

    def create():
        return people.create_person(district, current_user, form.display_name.data,
                                    form.email.data, Role(form.role.data),
                                    _school(district, form.school.data))

    def created(person):
        flash(f"{person.display_name} is added. They can log in once invited.", "success")
        return _to_edit_page(district, person)

    return submit(form, create, refused={AccountError: None}, done=created,
                  invalid=lambda status: (render_template(
                      "accounts/new_person.html", district=district, form=form), status))


def _to_edit_page(district, person):
    return redirect(url_for("people.edit_person", district_id=district.id, user_id=person.id))


def _edit_page(district, person, form=None, role_form=None, status=200):
    schools = people.schools_of(district.id)
    invitation = tokens.latest_invitation(person)
    form = form or PersonForm(formdata=None, display_name=person.display_name,
                              email=person.email)
    return render_template(
        "accounts/edit_person.html", district=district, person=person, form=form,
        role_form=role_form or RoleForm(schools, formdata=None),
        invitation=invitation, invite_refusal=tokens.invitable(person),
        invitation_state=invitation and tokens.state_of(invitation).value,
        memberships=[m for m in person.memberships if m.district_id == district.id]), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def edit_person(district_id: int, user_id: int):
    district = _district(district_id)
    person = _person(district, user_id)
    if request.method == "GET":
        return _edit_page(district, person)
    form = PersonForm()

    def saved(changes):
        flash("Saved." if changes else "Nothing to change.", "success")
        return _to_edit_page(district, person)

    return submit(form, lambda: people.update_person(person, district, current_user,
                                                     form.display_name.data, form.email.data),
                  refused={AccountError: None}, done=saved,
                  invalid=lambda status: _edit_page(district, person, form=form, status=status))


@bp.post("/<int:user_id>/roles")
@role_required(Role.DISTRICT_ADMIN)
def add_role(district_id: int, user_id: int):
    district = _district(district_id)
    person = _person(district, user_id)
    form = RoleForm(people.schools_of(district.id))

    def added(_):
        flash("Role added.", "success")
        return _to_edit_page(district, person)

    return submit(form, lambda: people.add_role(person, district, current_user,
                                                Role(form.role.data),
                                                _school(district, form.school.data)),
                  refused={AccountError: None}, done=added,
                  invalid=lambda status: _edit_page(district, person, role_form=form,
                                                    status=status))


@bp.post("/<int:user_id>/roles/<int:membership_id>/remove")
@role_required(Role.DISTRICT_ADMIN)
def remove_role(district_id: int, user_id: int, membership_id: int):
    district = _district(district_id)
    person = _person(district, user_id)
    membership = db.get_or_404(Membership, membership_id)
    try:
        people.remove_role(person, district, current_user, membership)
    except AccountError as error:
        return render_error(422, str(error))
    db.session.commit()
    flash("Role removed.", "success")
    return _to_edit_page(district, person)


@bp.post("/<int:user_id>/invite")
@role_required(Role.DISTRICT_ADMIN)
def invite_person(district_id: int, user_id: int):
    """Email the person a link to set their password; sending again replaces the last link."""
    district = _district(district_id)
    person = _person(district, user_id)
    try:
        tokens.invite(person, district, current_user)
    except AccountError as error:
        db.session.rollback()
        return render_error(422, str(error))
    db.session.commit()
    if request.form.get("from") == "list":   # invited from the People list: back to it
        flash(f"Invitation sent to {person.display_name} ({person.email}).", "success")
        return redirect(url_for("people.list_people", district_id=district.id))
    flash(f"Invitation sent to {person.email}. Its link works for "
          f"{tokens.days_text(current_app.config['INVITATION_DAYS'])}; earlier links no longer "
          "work.", "success")
    return _to_edit_page(district, person)


@bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def deactivate_person(district_id: int, user_id: int):
    """GET asks to confirm; POST deactivates."""
    district = _district(district_id)
    person = _person(district, user_id)
    if request.method == "POST":
        try:
            withdrawn = people.deactivate_person(person, district, current_user)
        except AccountError as error:
            return render_error(422, str(error))
        db.session.commit()
        flash(f"{person.display_name} is deactivated"
              + (f"; {withdrawn} unscored papers left their queue." if withdrawn else "."),
              "success")
        return _to_edit_page(district, person)
    return render_template("accounts/deactivate_person.html", district=district, person=person)


@bp.post("/<int:user_id>/reactivate")
@role_required(Role.DISTRICT_ADMIN)
def reactivate_person(district_id: int, user_id: int):
    district = _district(district_id)
    person = _person(district, user_id)
    try:
        restored = people.reactivate_person(person, district, current_user)
    except AccountError as error:
        return render_error(422, str(error))
    db.session.commit()
    flash(f"{person.display_name} can log in again"
          + (f"; {restored} papers are back in their queue." if restored else "."), "success")
    return _to_edit_page(district, person)
