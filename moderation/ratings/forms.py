"""The score form of a rubric version, built one way for every domain that gives scores: a
class teacher's local score and an anchor's agreed score (samples), a rater's sheet and
practice (scoring)."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


@dataclass(frozen=True)
class Note:
    """A text box beside each criterion's score: a rater's comment, an anchor's rationale.
    `label` and `required` (the message when it is left empty; None when it may be) name the
    criterion as {criterion}."""

    name: str
    label: str
    limit: int
    required: str | None = None

    def field(self, criterion, default: str | None) -> TextAreaField:
        first = (DataRequired(self.required.format(criterion=criterion.name)) if self.required
                 else Optional())
        return TextAreaField(self.label.format(criterion=criterion.name), default=default,
                             validators=[first, Length(max=self.limit)])


class ScoreSheet:
    """One level per criterion of a rubric version, an optional `note` beside each, and
    `extra` fields for the whole form (name -> a function that makes the field).

    A required score is a select that starts on "Choose a level", so no level is given by
    accident; an optional one is a radio group, for a sheet that may be saved part done (the
    services decide what a submit needs). WTForms declares fields on a class, so each version
    gets its own form class; fields are named score_<criterion id> and <note>_<criterion id>.
    """

    def __init__(self, version, *, required: bool, note: Note | None = None,
                 extra: dict[str, Callable[[], Field]] | None = None):
        self.version = version
        self.required = required
        self.note = note
        self.extra = extra or {}

    def form(self, scores: dict[int, int] | None = None, notes: dict[int, str] | None = None,
             **kwargs) -> FlaskForm:
        """The form, starting from `scores` and `notes` (criterion id -> value) where given."""
        scores, notes = scores or {}, notes or {}

        class ScoreForm(FlaskForm):
            pass

        for criterion in self.version.criteria:
            setattr(ScoreForm, f"score_{criterion.id}",
                    self._level_field(criterion, scores.get(criterion.id)))
            if self.note:
                setattr(ScoreForm, f"{self.note.name}_{criterion.id}",
                        self.note.field(criterion, notes.get(criterion.id)))
        for name, make in self.extra.items():
            setattr(ScoreForm, name, make())
        return ScoreForm(**kwargs)

    def _level_field(self, criterion, score: int | None) -> Field:
        if self.required:
            return SelectField(
                criterion.name, default="" if score is None else str(score),
                choices=[SelectChoice("", "Choose a level")] + [
                    SelectChoice(str(level.score), f"{level.score}: {level.label}")
                    for level in criterion.levels],
                validators=[DataRequired(f"Choose a level for “{criterion.name}”.")])
        return RadioField(criterion.name, coerce=int, validators=[Optional()], default=score,
                          choices=[SelectChoice(level.score, level.label)
                                   for level in criterion.levels])

    def rows(self, form) -> list[tuple]:
        """(criterion, score field, note field or None) for the template."""
        return [(c, form[f"score_{c.id}"],
                 form[f"{self.note.name}_{c.id}"] if self.note else None)
                for c in self.version.criteria]

    def scores(self, form) -> dict[int, int]:
        """The levels given, by criterion id; a criterion left without one is absent."""
        given = {c.id: form[f"score_{c.id}"].data for c in self.version.criteria}
        return {cid: int(value) for cid, value in given.items() if value not in (None, "")}

    def notes(self, form) -> dict[int, str]:
        """The notes written, by criterion id; an empty one is absent."""
        written = {c.id: form[f"{self.note.name}_{c.id}"].data for c in self.version.criteria}
        return {cid: text for cid, text in written.items() if (text or "").strip()}
