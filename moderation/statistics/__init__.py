"""Pure statistics for moderation: reliability, rater severity, drift and school standards.

Depends on numpy, pandas, scipy, krippendorff and pingouin only (no Flask, no SQLAlchemy), so
it runs from its own command line: `python -m moderation.statistics analyze FILE`.
"""

from moderation.statistics.analysis import analyze
from moderation.statistics.levels import LevelsError, ScoreLevels
from moderation.statistics.reliability import LevelOfMeasurementError
from moderation.statistics.table import RatingsFileError, load_ratings, validate_ratings

__all__ = ["LevelOfMeasurementError", "LevelsError", "RatingsFileError", "ScoreLevels",
           "analyze", "load_ratings", "validate_ratings"]
