from flask import Blueprint

from rubrics import models  # noqa: F401  (the models must be known to migrations)

bp = Blueprint("rubrics", __name__, url_prefix="/rubrics")
