"""The write step of a form view, the same in every domain.

Validate the form, run the one service call, commit once; when the form or a domain rule says
no, roll back and show the form again with the message where it belongs.
"""

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from moderation.core.extensions import db

# Ids are database keys (32-bit): anything else is refused before it reaches a query.
MAX_ID = 2**31 - 1


def database_id(value) -> int:
    """A form value as a row id, for a field's coerce; ValueError if it cannot be one."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number


def optional_database_id(value) -> int | None:
    return None if value in (None, "") else database_id(value)


def submit(form, action: Callable[[], object], *, refused: dict, done: Callable,
           invalid: Callable, raced: Callable[[], str | None] | None = None):
    """Answer a form view: `done(result)` after the commit, with what `action` returned, or
    `invalid(status)` with the form's messages: 422 after a submit, 200 when the form is only
    being shown.

    `refused` maps each domain error `action` may raise to the form field its message belongs
    beside, or None for the form's own messages; the first type the error is an instance of
    wins. An error that names its own field (a `field` attribute holding the name of one of
    the form's fields) is shown beside that field instead of with the form's messages.

    `raced` is for a write that two requests can race (a double click): called after the
    rollback when the commit meets a unique constraint, it returns the message to show, or None
    when the other request stored the same thing, which then counts as done.
    """
    if form.validate_on_submit():
        try:
            result = action()
        except tuple(refused) as error:
            db.session.rollback()
            field = next(f for kind, f in refused.items() if isinstance(error, kind))
            _show(form, field or _named_field(form, error), str(error))
        else:
            message = _commit(raced)
            if message is None:
                return done(result)
            _show(form, None, message)
    return invalid(422 if form.is_submitted() else 200)


def _commit(raced) -> str | None:
    if raced is None:
        db.session.commit()
        return None
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return raced()
    return None


def _named_field(form, error):
    return form._fields.get(getattr(error, "field", None))


def _show(form, field, message: str) -> None:
    # A field's errors are a tuple until it has been validated, so they are replaced, not
    # appended to.
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]
