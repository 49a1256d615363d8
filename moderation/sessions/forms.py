"""Input of the session pages. The scores themselves use the queue's sheet
(moderation.scoring.forms.ScoreSheet), so a session is scored with the same form."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput

from moderation.core.forms import database_id as _id
from moderation.core.forms import optional_database_id as _optional_id
from moderation.sessions.models import ConsensusMethod, SessionScope
from moderation.sessions.services import MAX_TIMER_MINUTES, TEXT_LIMIT


class NewSessionForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the session a title."),
                                             Length(max=200)])
    rubric_version_id = SelectField("Rubric", coerce=_id)
    scope = RadioField("Who takes part", default=SessionScope.CROSS_SCHOOL.value, choices=[
        SelectChoice(SessionScope.CROSS_SCHOOL.value, "Teachers from the district's schools"),
        SelectChoice(SessionScope.WITHIN_SCHOOL.value, "One school's staff")])
    school_id = SelectField("School (for one school's staff)", coerce=_optional_id,
                            validators=[Optional()])
    # Ticked in the order listed, the agenda's order (the facilitator moves items later).
    sample_ids = SelectMultipleField("Agenda: the work to score", coerce=_id,
                                     validate_choice=False, option_widget=CheckboxInput())
    co_facilitator_id = SelectField("Co-facilitator (optional)", coerce=_optional_id,
                                    validators=[Optional()])
    timer_minutes = IntegerField("Minutes to score each item (optional)", validators=[
        Optional(), NumberRange(1, MAX_TIMER_MINUTES, f"From 1 to {MAX_TIMER_MINUTES} minutes, "
                                                      f"or leave it empty.")])
    is_names_at_reveal = BooleanField("Show names beside the scores at the reveal")
    allows_auto_agree = BooleanField("Agree adjacent scores on the same side of the proficient "
                                     "cut without discussion")


class JoinForm(FlaskForm):
    code = StringField("Join code", validators=[DataRequired("Type the session's join code."),
                                                Length(max=20)])


class StepForm(FlaskForm):
    step = HiddenField(validators=[DataRequired()])


class AgendaForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])  # skip, up or down


class ConsensusForm(FlaskForm):
    criterion_id = HiddenField(validators=[DataRequired()])
    # The criterion's levels are the choices; the service checks the level against them.
    level = IntegerField("Agreed level", validators=[Optional()])
    method = SelectField("How it was reached", default=ConsensusMethod.UNANIMOUS.value,
                         choices=[SelectChoice(m.value, m.label) for m in ConsensusMethod
                                  if m != ConsensusMethod.AUTO])
    rationale = TextAreaField("Rationale", validators=[Optional(), Length(max=TEXT_LIMIT)])
    evidence = TextAreaField("Evidence in the work (page and region, or a quoted passage)",
                             validators=[Optional(), Length(max=TEXT_LIMIT)])


class DissentForm(FlaskForm):
    text = TextAreaField("Your dissent (kept without your name)", validators=[
        DataRequired("Write what you disagree with."), Length(max=TEXT_LIMIT)])
