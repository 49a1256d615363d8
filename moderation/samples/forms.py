from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    FloatField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from moderation.ratings.forms import Note, ScoreSheet
from moderation.samples.models import AnchorPool
from moderation.samples.processing import (
    ACCEPTED,
    MAX_REDACTION_BOXES,
    Box,
    RedactionError,
    box_from_fractions,
)


def _pool_field(**kwargs) -> RadioField:
    return RadioField("What the anchor paper is for",
                      choices=[SelectChoice(p.value, p.description) for p in AnchorPool],
                      default=AnchorPool.CALIBRATION.value,
                      validators=[DataRequired("Choose practice or calibration.")], **kwargs)


class AnchorPoolForm(FlaskForm):
    pool = _pool_field()


class _SampleFields(FlaskForm):
    school_id = SelectField("School", coerce=int, validators=[DataRequired()])
    rubric_version_id = SelectField("Rubric", coerce=int, validators=[DataRequired()])
    title = StringField("Task", validators=[DataRequired(message="Say what the task was."),
                                            Length(max=200)],
                        description="What the student was asked to do, without their name.")


def _student_name_field() -> StringField:
    return StringField("Student name", validators=[Optional(), Length(max=200)])


def _student_local_id_field() -> StringField:
    return StringField("Student local ID", validators=[Optional(), Length(max=100)])


class _IdentityCheck:
    """The student's name or local id, at least one of them."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.student_name.data or "").strip() and not (
                self.student_local_id.data or "").strip():
            self.student_name.errors = [*self.student_name.errors,
                                        "Enter the student's name or local ID (only your "
                                        "school sees it)."]
            return False
        return valid


class UploadForm(_IdentityCheck, _SampleFields):
    student_name = _student_name_field()
    student_local_id = _student_local_id_field()
    file = FileField("Student work", validators=[FileRequired("Choose the file to upload.")],
                     description=f"A {ACCEPTED} file.")


class ClassSetForm(_SampleFields):
    files = MultipleFileField(
        "Student work, one file per student",
        validators=[DataRequired("Choose the files to upload.")],
        description=f"{ACCEPTED} files; choose them all at once.")


class IdentityForm(_IdentityCheck, FlaskForm):
    student_name = _student_name_field()
    student_local_id = _student_local_id_field()


def _percent(label: str) -> FloatField:
    return FloatField(label, validators=[Optional(), NumberRange(0, 100, "From 0 to 100.")])


class RedactForm(FlaskForm):
    """The boxes to black out on one page: those drawn on the page (each a `box` value of four
    fractions "x,y,width,height", added by static/js/redact.js) and one typed as percentages
    of the page, the way to enter a box without a pointer."""

    left = _percent("Left %")
    top = _percent("Top %")
    width = _percent("Width %")
    height = _percent("Height %")

    def boxes(self, drawn: list[str]) -> list[Box]:
        """The boxes; RedactionError when one is not four numbers or not inside the page."""
        if len(drawn) > MAX_REDACTION_BOXES:
            raise RedactionError(f"At most {MAX_REDACTION_BOXES} boxes can be blacked out at "
                                 f"once; send the rest in a second go.")
        boxes = []
        for value in drawn:
            parts = value.split(",")
            try:
                numbers = [float(part) for part in parts]
            except ValueError:
                numbers = []
            if len(numbers) != 4:
                raise RedactionError("A drawn box did not arrive as four numbers. Reload the "
                                     "page and draw it again.")
            boxes.append(box_from_fractions(*numbers))
        typed = [self.left.data, self.top.data, self.width.data, self.height.data]
        if any(v is not None for v in typed):
            if any(v is None for v in typed):
                raise RedactionError("Give the typed box all four numbers: left, top, width "
                                     "and height.")
            boxes.append(box_from_fractions(*(v / 100 for v in typed)))
        return boxes


class ConfirmRedactionForm(FlaskForm):
    confirmed = BooleanField(
        "I have looked at every page: no student, teacher or school name is visible in the work.",
        validators=[DataRequired("Tick the box once you have checked every page.")])


class ConfirmPurgeForm(FlaskForm):
    confirmed = BooleanField(
        "Delete this sample and every score given to it, for good.",
        validators=[DataRequired("Tick the box to confirm the purge.")])


RATIONALE = Note("rationale", "Why “{criterion}” earns this score", limit=4000,
                 required="Write the rationale for “{criterion}”.")


def local_score_sheet(version) -> ScoreSheet:
    """A class teacher's own score of their student's work: a level for every criterion."""
    return ScoreSheet(version, required=True)


def anchor_sheet(version) -> ScoreSheet:
    """An anchor paper's agreed scores, each with its rationale, and the pool it goes to."""
    return ScoreSheet(version, required=True, note=RATIONALE, extra={"pool": _pool_field})
