import secrets
from datetime import date, tzinfo

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
from wtforms.fields import DateField, SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from moderation.core.forms import database_id as _id
from moderation.core.forms import optional_database_id as _optional_id
from moderation.ratings import forms as ratings_forms
from moderation.ratings.forms import Note
from moderation.scoring import queries, services
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


DATE_MESSAGE = "Give a date as year-month-day, e.g. 2026-12-11."
# Ticked one by one, a selection stays this small; more is "Select all matching".
MAX_TICKED = 5000


def _plain_date_message(field) -> None:
    """WTForms says "Not a valid date value."; say what to type instead."""
    if field.errors and field.data is None:
        field.errors = [DATE_MESSAGE]


def _ids(label: str) -> SelectMultipleField:
    # Not checked against choices: a sample that has left them since the form was shown
    # (opened in another round) gets the service's message, which says why.
    return SelectMultipleField(label, coerce=_id, validate_choice=False, validators=[
        Length(max=MAX_TICKED, message=f"Tick at most {MAX_TICKED} samples one by one; for "
                                       f"more, use “Select all matching”.")])


class SampleChoiceForm(FlaskForm):
    """The New round form's sample list: its filters, the page shown and what is ticked.

    Sent with the round form, and alone by GET for another page of the list or another filter,
    so it carries no CSRF token of its own (it changes nothing). `selection` is "all" once
    "Select all matching" was chosen: then the unticked samples are the exclusions, kept across
    pages in `excluded_sample_ids`; otherwise the ticked ones are kept in `sample_ids`.
    `page_sample_ids` are those the page showed, so an unticked box on it is known.
    """

    class Meta:
        csrf = False

    school_id = SelectField("School", coerce=_optional_id, validators=[Optional()])
    grade_band = SelectField("Grade band", validators=[Optional()])
    uploaded_from = DateField("Uploaded from", validators=[Optional()])
    uploaded_to = DateField("Uploaded to", validators=[Optional()])
    history = SelectField("Round status", default=queries.RoundHistory.AVAILABLE.value,
                          choices=[SelectChoice(h.value, h.label) for h in queries.RoundHistory])
    selection = HiddenField()
    action = HiddenField()  # "select_all" or "clear", from those buttons
    sample_ids = _ids("Work samples")
    page_sample_ids = _ids("Samples shown")
    excluded_sample_ids = _ids("Samples left out")

    def validate_uploaded_to(self, field) -> None:
        if field.data and self.uploaded_from.data and field.data < self.uploaded_from.data:
            raise ValidationError("The “to” date is before the “from” date.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        _plain_date_message(self.uploaded_from)
        _plain_date_message(self.uploaded_to)
        return valid

    def sample_filter(self, version_id: int, zone: tzinfo) -> queries.SampleFilter:
        """The filter; its upload dates are days of `zone`, the viewer's."""
        return queries.SampleFilter(
            version_id=version_id, zone=zone, school_id=self.school_id.data,
            grade_band=self.grade_band.data or None, uploaded_from=self.uploaded_from.data,
            uploaded_to=self.uploaded_to.data,
            history=queries.RoundHistory(self.history.data or "available"))

    def sample_selection(self) -> queries.SampleSelection:
        if self.action.data == "select_all":
            return queries.SampleSelection(all_matching=True)
        if self.action.data == "clear":
            return queries.SampleSelection()
        ticked = set(self.sample_ids.data or [])
        if self.selection.data == "all":
            shown = set(self.page_sample_ids.data or [])
            excluded = (set(self.excluded_sample_ids.data or []) - shown) | (shown - ticked)
            return queries.SampleSelection(all_matching=True, ids=frozenset(excluded))
        return queries.SampleSelection(ids=frozenset(ticked))


class RoundForm(FlaskForm):
    district_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    name = StringField("Name of the round", validators=[
        DataRequired("Give the round a name."), Length(max=200)])
    rubric_version_id = SelectField("Rubric version", coerce=int, validators=[InputRequired(
        "Choose the rubric version to score against.")])
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
    due_date = DateField(
        "Due date (optional)", validators=[Optional()],
        description="The day teachers should have scored their queue by; they see it in their "
                    "queue. Nothing closes on that day.")
    seed = IntegerField(widget=HiddenInput(),
                        validators=[InputRequired(services.SEED_MESSAGE),
                                    NumberRange(0, services.MAX_SEED, services.SEED_MESSAGE)],
                        default=lambda: secrets.randbelow(services.MAX_SEED))

    def __init__(self, *args, today: date, **kwargs):
        """`today`: the date in the round's district, which a due date may not be before."""
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_due_date(self, field) -> None:
        if problem := services.due_date_problem(field.data, self.today):
            raise ValidationError(problem)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        _plain_date_message(self.due_date)
        # The seed is a hidden field, so its message goes where the form's own messages show.
        self.form_errors.extend(self.seed.errors)
        self.seed.errors = []
        return valid


class CloseRoundForm(FlaskForm):
    confirmed = BooleanField("Close the round now: unscored items stay unscored.",
                             validators=[DataRequired("Tick the box to close the round.")])

