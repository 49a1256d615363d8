from flask_wtf import FlaskForm


class RunForm(FlaskForm):
    """"Run the analysis again" / "Retry": a button and its CSRF token."""
