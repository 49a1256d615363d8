from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    FloatField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

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


class CriterionScores:
    """One score select (and optionally a rationale box) per criterion of a rubric version.

    WTForms fields are declared on a class, so each version gets its own form class; fields are
    named score_<criterion id> and rationale_<criterion id>.
    """

    def __init__(self, version, *, with_rationale: bool, with_pool: bool = False):
        self.version = version
        self.with_rationale = with_rationale
        self.with_pool = with_pool

    def form(self, current: dict[int, int] | None = None, **kwargs) -> FlaskForm:
        class ScoreForm(FlaskForm):
            pass

        for criterion in self.version.criteria:
            choices = [SelectChoice("", "Choose a level")] + [
                SelectChoice(str(level.score), f"{level.score}: {level.label}")
                for level in criterion.levels]
            setattr(ScoreForm, f"score_{criterion.id}", SelectField(
                criterion.name, choices=choices,
                validators=[DataRequired(f"Choose a level for “{criterion.name}”.")],
                default=str(current[criterion.id]) if current and criterion.id in current
                else ""))
            if self.with_rationale:
                setattr(ScoreForm, f"rationale_{criterion.id}", TextAreaField(
                    f"Why “{criterion.name}” earns this score",
                    validators=[DataRequired(f"Write the rationale for “{criterion.name}”."),
                                Length(max=4000)]))
        if self.with_pool:
            ScoreForm.pool = _pool_field()
        return ScoreForm(**kwargs)

    def rows(self, form) -> list[tuple]:
        """(criterion, score field, rationale field or None) for the template."""
        return [(c, form[f"score_{c.id}"],
                 form[f"rationale_{c.id}"] if self.with_rationale else None)
                for c in self.version.criteria]

    def scores(self, form) -> dict[int, int]:
        return {c.id: int(form[f"score_{c.id}"].data) for c in self.version.criteria}

    def rationales(self, form) -> dict[int, str]:
        return {c.id: form[f"rationale_{c.id}"].data for c in self.version.criteria}
