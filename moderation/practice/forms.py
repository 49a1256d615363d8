from flask_wtf import FlaskForm
from wtforms import BooleanField


class PracticePrivacyForm(FlaskForm):
    visible = BooleanField("Coaches may see the practice history of the teachers in their scope")
