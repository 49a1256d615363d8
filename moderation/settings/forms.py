"""The settings page's form: the time zone and a field per setting, built from SETTINGS."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField
from wtforms.validators import InputRequired

from moderation.core import timezones
from moderation.settings.models import SETTINGS
from moderation.settings.services import SettingsError, check


def _field(spec):
    if spec.kind is bool:
        return BooleanField(spec.label)
    required = InputRequired(message=f"Enter {spec.label.lower()}.")
    if spec.kind is int:
        return IntegerField(spec.label, [required], render_kw={"inputmode": "numeric"})
    return DecimalField(spec.label, [required], places=None,
                        render_kw={"inputmode": "decimal"})


class DistrictSettingsForm(FlaskForm):
    time_zone = SelectField("Time zone", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = timezones.zone_choices()

    def values(self) -> dict:
        """Every setting's value, by key, in the type its spec names."""
        return {spec.key: spec.kind(getattr(self, spec.key).data) for spec in SETTINGS}

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            check(self.values())
        except SettingsError as error:
            getattr(self, error.key).errors.append(str(error))
            return False
        return True


for _spec in SETTINGS:
    setattr(DistrictSettingsForm, _spec.key, _field(_spec))
