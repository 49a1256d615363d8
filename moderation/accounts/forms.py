from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from moderation.accounts.services import MIN_PASSWORD_LENGTH
from moderation.core import timezones


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")])


# The menu offers only known zones, so an unknown one was sent by hand or from a page older
# than the zone database: the service refuses it with its own message (validate_choice off).

class OwnTimeZoneForm(FlaskForm):
    time_zone = SelectField("Your time zone", validate_choice=False)

    def __init__(self, district_zone: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = {
            "Your district": [("", f"Your district's time zone ({district_zone})")],
            **timezones.zone_choices()}
