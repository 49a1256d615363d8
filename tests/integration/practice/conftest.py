import pytest


@pytest.fixture
def practice_world(scoring_world, scoring_db):
    """Three schools of two teachers, four calibration anchors and three practice anchors; the
    first teacher; the rubric version's criteria."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=4,
                          practice_anchors=3)
    return world, world.all_teachers[0], scoring_db.criteria(world.version)
