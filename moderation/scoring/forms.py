import secrets

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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from moderation.scoring import services
from moderation.scoring.assignment import DEFAULT_CALIBRATION_SET_SIZE, DEFAULT_RATINGS_PER_SAMPLE


class ScoreSheet:
    """One radio group (a level per choice) and an optional comment per criterion.

    WTForms declares fields on a class, so each rubric version gets its own form class; fields
    are score_<criterion id> and comment_<criterion id>. Levels are optional here: a draft may
    be partial, and services decide what a submit needs.
    """

    def __init__(self, version, *, with_reason: bool = False, with_nonce: bool = False):
        self.version = version
        self.with_reason = with_reason
        self.with_nonce = with_nonce

    def form(self, current: dict | None = None, **kwargs) -> FlaskForm:
        """`current`: criterion id -> Rating, to start from the rater's own saved scores."""
        current = current or {}

        class ScoreForm(FlaskForm):
            pass

        for criterion in self.version.criteria:
            rating = current.get(criterion.id)
            setattr(ScoreForm, f"score_{criterion.id}", RadioField(
                criterion.name, coerce=int, validators=[Optional()],
                choices=[SelectChoice(level.score, level.label) for level in criterion.levels],
                default=rating.score if rating else None))
            setattr(ScoreForm, f"comment_{criterion.id}", TextAreaField(
                f"Comment on “{criterion.name}” (optional)",
                validators=[Optional(), Length(max=services.COMMENT_LIMIT)],
                default=rating.comment if rating else None))
        if self.with_reason:
            ScoreForm.reason = TextAreaField(
                "Why are you changing your scores?",
                validators=[DataRequired("Say why you are changing a submitted score."),
                            Length(max=services.REASON_LIMIT)])
        if self.with_nonce:
            ScoreForm.nonce = HiddenField(default=secrets.token_hex(16))
        return ScoreForm(**kwargs)

    def rows(self, form) -> list[tuple]:
        """(criterion, radio field, comment field) for the template."""
        return [(c, form[f"score_{c.id}"], form[f"comment_{c.id}"]) for c in self.version.criteria]

    def scores(self, form) -> dict[int, int]:
        return {c.id: form[f"score_{c.id}"].data for c in self.version.criteria
                if form[f"score_{c.id}"].data is not None}

    def comments(self, form) -> dict[int, str]:
        return {c.id: form[f"comment_{c.id}"].data for c in self.version.criteria
                if (form[f"comment_{c.id}"].data or "").strip()}


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

