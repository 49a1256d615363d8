"""Forms of the rubric builder. Several sit on one page, so each instance gets a prefix that
keeps its field ids (and with them the <label for>) unique."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from rubrics.jsonformat import MAX_FILE_BYTES, MAX_SCORE, MIN_SCORE


class RubricDetailsForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the rubric a title."),
                                             Length(max=200)])
    subject = StringField("Subject", validators=[DataRequired("Give the subject."),
                                                 Length(max=100)])
    grade_band = StringField("Grade band", description="For example 9-10 or K-2.",
                             validators=[DataRequired("Give the grade band."), Length(max=40)])
    description = TextAreaField("What it is for (optional)", validators=[Optional()])


class NewRubricForm(RubricDetailsForm):
    district_id = SelectField("District", coerce=int)


class CriterionForm(FlaskForm):
    name = StringField("Criterion name", validators=[
        DataRequired("Give the criterion a name."), Length(max=200)])
    description = TextAreaField("What it assesses (optional)", validators=[Optional()])
    student_friendly = TextAreaField("Student-friendly wording (optional)",
                                     validators=[Optional()])
    standard_codes = StringField("Standard codes (optional, comma-separated)",
                                 validators=[Optional(), Length(max=500)])


class LevelForm(FlaskForm):
    score = IntegerField("Score", validators=[
        InputRequired("Give the score for this level."),
        NumberRange(MIN_SCORE, MAX_SCORE, f"The score must be from {MIN_SCORE} to {MAX_SCORE}.")])
    label = StringField("Label", description="For example Proficient.", validators=[
        DataRequired("Give the level a label."), Length(max=100)])
    descriptor = TextAreaField("Descriptor", validators=[
        DataRequired("Describe what work at this level shows.")])
    student_friendly = TextAreaField("Student-friendly wording (optional)",
                                     validators=[Optional()])
    is_proficient = BooleanField("Proficient (the grade-level expectation)")


class NextVersionForm(FlaskForm):
    change_note = StringField("What will change (optional)",
                              validators=[Optional(), Length(max=500)])


class ImportForm(FlaskForm):
    district_id = SelectField("District", coerce=int)
    file = FileField("Rubric file (JSON)", validators=[
        FileRequired("Choose a rubric file to import."),
        FileSize(MAX_FILE_BYTES, message="The file is larger than 1 MB; a rubric file is "
                                         "usually a few kilobytes.")])
    as_new_version = BooleanField("If a rubric with this title exists, add the file as its "
                                  "next version")
