"""Flask extensions, created unbound here and bound to the app in create_app()."""

from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from moderation.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
# Storage comes from RATELIMIT_STORAGE_URI (memory by default, Redis in production) so that
# the limit holds across gunicorn workers.
limiter = Limiter(key_func=get_remote_address)
