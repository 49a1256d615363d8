"""Forms of the schools pages: a school with its context figures, and a new context measure.

A share is typed as a percentage (52 or 52.5 means 52%) and stored as 0-1; a count as a whole
number. The ranges, the year and the source are the service's rules (schools.check_figure), so
an import or a script meets the same ones.
"""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from moderation.accounts.models import ContextMeasure, MeasureUnit, School
from moderation.accounts.schools import Figure


def _number(text: str | None) -> Decimal | None:
    try:
        number = Decimal((text or "").strip().rstrip("%").replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class FigureForm(Form):
    """One measure's figure; an empty value clears it."""

    measure_id = HiddenField()
    value = StringField("Value", validators=[Length(max=40)])
    year = StringField("Year", validators=[Length(max=10)])
    source = StringField("Source", validators=[Length(max=300)])

    def validate_value(self, field):
        if field.data and field.data.strip() and _number(field.data) is None:
            raise ValidationError("Enter a number, for example 52 or 52.5.")

    def validate_year(self, field):
        if self.value.data and self.value.data.strip() and not (
                (field.data or "").strip().isdigit()):
            raise ValidationError("Enter the year the figure describes, for example 2025.")


class SchoolForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the school's name."),
                                           Length(max=200)])
    grade_band = StringField("Grades", validators=[Optional(), Length(max=40)],
                             description="For example K-5, 6-8 or 9-12.")
    context = FieldList(FormField(FigureForm))

    def __init__(self, measures: list[ContextMeasure], school: School | None = None, **kwargs):
        if school is not None:
            kwargs.setdefault("name", school.name)
            kwargs.setdefault("grade_band", school.grade_band)
        super().__init__(**kwargs)
        self.measures = measures
        stored = {row.measure_id: row for row in (school.context if school else [])}
        # The measures, not the request, decide which entries there are.
        submitted = {entry.measure_id.data: entry for entry in self.context.entries}
        while self.context.entries:
            self.context.pop_entry()
        for measure in measures:
            entry = self.context.append_entry()
            sent = submitted.get(str(measure.id))
            if sent is not None:
                entry.form.process(None, data=sent.form.data)
            elif (row := stored.get(measure.id)) is not None:
                entry.form.process(None, data=_shown(measure, row))
            entry.measure_id.data = str(measure.id)
            entry.measure = measure

    def figures(self) -> dict[int, Figure | None]:
        """Measure id -> the figure typed (a share as 0-1), or None where the value is empty."""
        figures = {}
        for entry in self.context.entries:
            number = _number(entry.value.data)
            if number is None:
                figures[entry.measure.id] = None
                continue
            if entry.measure.unit == MeasureUnit.SHARE:
                number /= 100
            year = (entry.year.data or "").strip()
            figures[entry.measure.id] = Figure(value=float(number),
                                               year=int(year) if year.isdigit() else None,
                                               source=entry.source.data or "")
        return figures


def _shown(measure: ContextMeasure, row) -> dict:
    value = row.value * 100 if measure.unit == MeasureUnit.SHARE else row.value
    return {"value": f"{value:g}", "year": "" if row.year is None else str(row.year),
            "source": row.source}


class MeasureForm(FlaskForm):
    label = StringField("Name", validators=[DataRequired("Name the measure."), Length(max=120)],
                        description="For example “English learners share”.")
    unit = SelectField("Unit", choices=[SelectChoice(u.value, u.label) for u in MeasureUnit],
                       validators=[DataRequired()])
    description = StringField("What it counts", validators=[Optional(), Length(max=500)])


class ArchiveForm(FlaskForm):
    """The Archive and Unarchive buttons: a CSRF token alone."""
