"""The demo district's work samples: the files in seed_data/samples/, uploaded once.

A step of `flask seed-demo` (SEED_STEPS in seed_data/demo/__init__.py), after the demo rubrics.
Each file goes through the real upload service, so it is anonymised and rendered like any
upload. A sample is found by its natural key (school, task title) and left alone if it exists,
so running the seed again changes nothing. A sample whose rubric is missing is skipped.
"""

import json
from pathlib import Path

from moderation.accounts import queries as account_queries
from moderation.accounts.models import District, School
from moderation.core.extensions import db
from moderation.core.storage import get_storage
from moderation.samples import services
from moderation.samples.models import AnchorPool, WorkSample
from rubrics import queries as rubric_queries

SEED_DIR = Path(__file__).resolve().parents[1] / "samples"


def _exists(school: School, title: str) -> bool:
    return db.session.scalar(db.select(db.func.count(WorkSample.id)).where(
        WorkSample.school_id == school.id, WorkSample.title == title)) > 0


def _newest_ready_version(district: District, rubric_title: str):
    versions = [v for v in rubric_queries.versions_for_district(district.id, ready_only=True)
                if v.rubric.title == rubric_title]
    return versions[-1] if versions else None


def seed_demo_samples(spec: dict, district: District) -> None:
    """Upload each manifest sample into `district` unless its school already has it."""
    manifest = json.loads((SEED_DIR / "manifest.json").read_text())
    schools = {s.name: s for s in district.schools}
    for item in manifest["samples"]:
        school = schools.get(item["school"])
        version = _newest_ready_version(district, item["rubric"])
        uploader = account_queries.user_by_email(item["uploader"])
        if None in (school, version, uploader) or _exists(school, item["title"]):
            continue
        path = SEED_DIR / item["file"]
        sample = services.upload_sample(
            uploader=uploader, school=school, rubric_version=version, title=item["title"],
            data=path.read_bytes(), filename=path.name, storage=get_storage(),
            student_name=item["student"])
        criteria = [c.id for c in version.criteria]
        if "local_scores" in item:
            services.record_local_scores(sample, uploader,
                                         dict(zip(criteria, item["local_scores"], strict=True)))
        if item.get("ready"):
            services.confirm_redaction(sample, uploader)
        if anchor := item.get("anchor"):
            services.promote_to_anchor(
                sample, account_queries.user_by_email(anchor["by"]),
                dict(zip(criteria, anchor["scores"], strict=True)),
                dict(zip(criteria, anchor["rationales"], strict=True)),
                AnchorPool(anchor.get("pool", AnchorPool.CALIBRATION)))
