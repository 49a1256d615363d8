from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from moderation.accounts.models import Role
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


# People (the district administrator's pages). Names and emails are checked by the people
# services, whose messages the forms show; the menus here only offer what the district has.

class PersonForm(FlaskForm):
    display_name = StringField("Name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[Length(max=254)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])
    # Checked against the district's schools by the view, with its own message.
    school = SelectField("School", validate_choice=False, description=(
        "Teachers and school leaders belong to a school; a coach may cover one school or the "
        "whole district."))

    def __init__(self, schools, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.school.choices = [SelectChoice("", "The whole district")] + [
            SelectChoice(str(s.id), s.name) for s in schools]


class NewPersonForm(PersonForm, RoleForm):
    pass


# One-time links (invitations and password resets).

class ForgotPasswordForm(FlaskForm):
    email = EmailField("Your email address", validators=[
        DataRequired(message="Enter the email address you log in with."), Length(max=254)])


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", description=f"At least {MIN_PASSWORD_LENGTH} characters; a few "
        "unrelated words make a good one.",
        validators=[DataRequired(message="Choose a password."), Length(max=200)])
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(message="Type the password again."),
                    EqualTo("new_password", message="The passwords differ.")])
