from flask import Blueprint, abort
from flask_login import current_user

from moderation.accounts import sso
from moderation.accounts.models import District, Role
from moderation.accounts.permissions import district_ids, role_required
from moderation.accounts.services import AccountError
from moderation.core import local_time
from moderation.core.extensions import db
from moderation.core.forms import submit
from moderation.core.htmx import render
from moderation.settings import queries, services
from moderation.settings.forms import DistrictSettingsForm
from moderation.settings.models import GROUPS, SETTINGS, SPECS

bp = Blueprint("settings", __name__)


def _admin_district_or_abort(district_id: int) -> District:
    district = db.get_or_404(District, district_id)
    if district.id not in district_ids(current_user, Role.DISTRICT_ADMIN):
        abort(403)
    return district


def _groups() -> list[tuple[str, list]]:
    return [(group, [spec for spec in SETTINGS if spec.group == group]) for group in GROUPS]


def _notes() -> dict[str, str]:
    """What this server's configuration means for a setting, shown beside it."""
    if sso.is_configured():
        return {}
    return {"password_login": "Single sign-on is not set up on this server, so password "
                              "login stays allowed."}


@bp.route("/district/<int:district_id>/settings", methods=["GET", "POST"])
@role_required(Role.DISTRICT_ADMIN)
def district_settings(district_id: int):
    district = _admin_district_or_abort(district_id)
    current = queries.settings_for(district.id)
    form = DistrictSettingsForm(data={"time_zone": district.time_zone, **vars(current)})

    def page(status: int, message: str | None = None):
        return render("settings/district_settings.html", "settings/_district_settings.html",
                      status=status, district=district, form=form, groups=_groups(),
                      notes=_notes(), message=message)

    def done(changed: list[str]):
        if not changed:
            return page(200, "Nothing changed.")
        if "time_zone" in changed:
            local_time.forget_viewer_zone()
        names = ["Time zone" if key == "time_zone" else SPECS[key].label for key in changed]
        return page(200, "Saved: " + "; ".join(names) + ".")

    return submit(form, lambda: services.update_district_settings(
                      district, current_user, form.time_zone.data or "", form.values()),
                  refused={AccountError: form.time_zone, services.SettingsError: None},
                  done=done, invalid=page)


@bp.app_template_global("district_settings_summary")
def district_settings_summary(district: District) -> dict:
    """For the district page (templates/accounts/district_home.html): what differs from the
    defaults."""
    current = queries.settings_for(district.id)
    return {"changed": [SPECS[key] for key in current.changed_from_default()],
            "settings": current}
