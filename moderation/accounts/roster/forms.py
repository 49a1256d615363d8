from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField
from wtforms.validators import Length


class UploadForm(FlaskForm):
    files = MultipleFileField(
        "Roster file",
        description="One CSV in the platform's format, or OneRoster's orgs.csv, users.csv and "
                    "roles.csv (choose all three), or their zip.")


class ApplyForm(FlaskForm):
    # The digest of the plan the administrator read (plan.Plan.digest).
    plan = HiddenField(validators=[Length(max=64)])
