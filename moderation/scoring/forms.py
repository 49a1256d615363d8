import secrets

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from moderation.ratings import forms as ratings_forms
from moderation.ratings.forms import Note
from moderation.scoring import services
from moderation.scoring.assignment import DEFAULT_CALIBRATION_SET_SIZE, DEFAULT_RATINGS_PER_SAMPLE

COMMENT = Note("comment", "Comment on “{criterion}” (optional)", limit=services.COMMENT_LIMIT)


class ScoreSheet(ratings_forms.ScoreSheet):
    """A rater's sheet: a radio group of levels and an optional comment per criterion; with the
    reason for a change when revising, and a nonce that makes a practice attempt's double
    submit count once."""

    def __init__(self, version, *, with_reason: bool = False, with_nonce: bool = False):
        extra = {}
        if with_reason:
            extra["reason"] = lambda: TextAreaField(
                "Why are you changing your scores?",
                validators=[DataRequired("Say why you are changing a submitted score."),
                            Length(max=services.REASON_LIMIT)])
        if with_nonce:
            extra["nonce"] = lambda: HiddenField(default=secrets.token_hex(16))
        super().__init__(version, required=False, note=COMMENT, extra=extra)

    def form(self, current: dict | None = None, **kwargs) -> FlaskForm:
        """`current`: criterion id -> Rating, to start from the rater's own saved scores."""
        current = current or {}
        return super().form(scores={k: r.score for k, r in current.items()},
                            notes={k: r.comment for k, r in current.items()}, **kwargs)

    def comments(self, form) -> dict[int, str]:
        return self.notes(form)


class RoundForm(FlaskForm):
    district_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    name = StringField("Name of the round", validators=[
        DataRequired("Give the round a name."), Length(max=200)])
    rubric_version_id = SelectField("Rubric version", coerce=int, validators=[InputRequired(
        "Choose the rubric version to score against.")])
    # Not checked against the choices: a sample that has left them since the form was shown
    # (opened in another round) gets the service's message, which says why.
    sample_ids = SelectMultipleField("Work samples", coerce=int, validators=[Optional()],
                                     validate_choice=False)
    rater_school_ids = SelectMultipleField("Schools whose teachers score", coerce=int,
                                           validators=[Optional()])
    # Not checked against the choices either: views keep only the eligible teachers chosen.
    rater_ids = SelectMultipleField("Teachers", coerce=int, validators=[Optional()],
                                    validate_choice=False)
    ratings_per_sample = IntegerField(
        "Ratings per sample", default=DEFAULT_RATINGS_PER_SAMPLE,
        validators=[InputRequired("Say how many teachers score each sample."),
                    NumberRange(1, services.MAX_RATINGS_PER_SAMPLE,
                                "Each sample needs 1 to %(max)s ratings.")],
        description="How many teachers from other schools score each sample blind.")
    validity_percent = IntegerField(
        "Validity papers (% of each queue)", default=10,
        validators=[InputRequired("Give a rate, or 0 for no validity papers."),
                    NumberRange(0, round(services.MAX_VALIDITY_RATE * 100),
                                "Use a rate from %(min)s to %(max)s %%.")],
        description="Anchor papers mixed in at random, looking exactly like live work; "
                    "their agreed scores measure accuracy and drift.")
    calibration_size = IntegerField(
        "Common calibration set (anchor papers every teacher scores)",
        default=DEFAULT_CALIBRATION_SET_SIZE,
        validators=[InputRequired("Give a size, or 0 for no common set."),
                    NumberRange(0, services.MAX_CALIBRATION_SIZE,
                                "Use %(min)s to %(max)s papers.")],
        description="Links every teacher to every other, so schools' standards can be "
                    "compared; 5 or more is recommended.")
    seed = IntegerField(widget=HiddenInput(),
                        validators=[InputRequired(services.SEED_MESSAGE),
                                    NumberRange(0, services.MAX_SEED, services.SEED_MESSAGE)],
                        default=lambda: secrets.randbelow(services.MAX_SEED))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # The seed is a hidden field, so its message goes where the form's own messages show.
        self.form_errors.extend(self.seed.errors)
        self.seed.errors = []
        return valid


class CloseRoundForm(FlaskForm):
    confirmed = BooleanField("Close the round now: unscored items stay unscored.",
                             validators=[DataRequired("Tick the box to close the round.")])


class PracticePrivacyForm(FlaskForm):
    visible = BooleanField("Coaches may see the practice history of the teachers in their scope")
