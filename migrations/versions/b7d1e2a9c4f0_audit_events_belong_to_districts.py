"""audit events belong to districts; failed logins keep a keyed hash of the typed address

Revision ID: b7d1e2a9c4f0
Revises: 5dfc79807584
Create Date: 2026-12-02 08:05:00

Existing events are linked to the districts their object, details or actor name (the rules of
moderation.core.audit.record, applied to what the database still holds; an event about a
deleted sample takes the district of another event about the same sample). The typed address of
each earlier failed login is replaced by its HMAC-SHA256 under the app's SECRET_KEY: people type
passwords into the email box, and the log must not keep them. That rewrite is the one change
ever made to stored events, and it cannot be undone.
"""
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'b7d1e2a9c4f0'
down_revision = '5dfc79807584'
branch_labels = None
depends_on = None

BATCH = 1000
events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('action', sa.String),
                  sa.column('actor_id', sa.Integer), sa.column('object_type', sa.String),
                  sa.column('object_id', sa.String), sa.column('details', sa.JSON))
links = sa.table('audit_event_districts', sa.column('district_id', sa.Integer),
                 sa.column('event_id', sa.Integer))


def upgrade():
    op.create_table(
        'audit_event_districts',
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                                name=op.f('fk_audit_event_districts_district_id_districts')),
        sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'],
                                name=op.f('fk_audit_event_districts_event_id_audit_events')),
        sa.PrimaryKeyConstraint('district_id', 'event_id', name=op.f('pk_audit_event_districts')),
    )
    with op.batch_alter_table('audit_event_districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_districts_event_id'), ['event_id'],
                              unique=False)
    _backfill(op.get_bind())


def downgrade():
    with op.batch_alter_table('audit_event_districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_districts_event_id'))
    op.drop_table('audit_event_districts')


def _by_id(conn, sql: str) -> dict[str, set[int]]:
    """{str(id): {district ids}} from rows of (id, district_id)."""
    found: dict[str, set[int]] = {}
    for row_id, district_id in conn.execute(sa.text(sql)):
        found.setdefault(str(row_id), set()).add(district_id)
    return found


def _districts_by_object(conn) -> dict[str, dict[str, set[int]]]:
    return {
        'User': _by_id(conn, 'SELECT user_id, district_id FROM memberships'),
        'District': _by_id(conn, 'SELECT id, id FROM districts'),
        'School': _by_id(conn, 'SELECT id, district_id FROM schools'),
        'Rubric': _by_id(conn, 'SELECT id, district_id FROM rubrics'),
        'RubricVersion': _by_id(conn, 'SELECT v.id, r.district_id FROM rubric_versions v '
                                      'JOIN rubrics r ON r.id = v.rubric_id'),
        'ScoringRound': _by_id(conn, 'SELECT id, district_id FROM scoring_rounds'),
        'QueueItem': _by_id(conn, 'SELECT q.id, r.district_id FROM queue_items q '
                                  'JOIN scoring_rounds r ON r.id = q.round_id'),
        'WorkSample': _by_id(conn, 'SELECT w.id, s.district_id FROM work_samples w '
                                   'JOIN schools s ON s.id = w.school_id'),
        'Anchor': _by_id(conn, 'SELECT a.id, s.district_id FROM anchors a '
                               'JOIN work_samples w ON w.id = a.sample_id '
                               'JOIN schools s ON s.id = w.school_id'),
    }


DETAIL_KINDS = {'district_id': 'District', 'school_id': 'School', 'round_id': 'ScoringRound',
                'rubric_version_id': 'RubricVersion', 'rubric_id': 'Rubric'}


def _districts(event, known) -> set[int]:
    """What the event itself names; the actor only for an event about no object (a failed
    login), since another event about the same object is the better witness."""
    details = event.details or {}
    if event.action == 'role_granted' and details.get('district_id') is not None:
        return known['District'].get(str(details['district_id']), set())
    if event.object_id is not None and event.object_id in known.get(event.object_type, {}):
        return known[event.object_type][event.object_id]
    for key, kind in DETAIL_KINDS.items():
        if str(details.get(key)) in known[kind]:
            return known[kind][str(details[key])]
    if event.object_id is None and event.actor_id is not None:
        return known['User'].get(str(event.actor_id), set())
    return set()


def _backfill(conn) -> None:
    known = _districts_by_object(conn)
    key = current_app.config['SECRET_KEY'].encode()
    by_object: dict[tuple, set[int]] = {}
    unresolved: list[tuple[int, tuple, int | None]] = []
    last_id = 0
    while True:
        batch = conn.execute(sa.select(events).where(events.c.id > last_id)
                             .order_by(events.c.id).limit(BATCH)).all()
        if not batch:
            break
        last_id = batch[-1].id
        rows = []
        for event in batch:
            found = _districts(event, known)
            obj = (event.object_type, event.object_id)
            if found and event.object_id is not None:
                by_object.setdefault(obj, found)
            elif not found and event.object_id is not None:
                unresolved.append((event.id, obj, event.actor_id))
            rows += [{'event_id': event.id, 'district_id': d} for d in sorted(found)]
            details = event.details or {}
            if event.action == 'login_failed' and 'email' in details:
                typed = str(details['email']).strip().lower().encode()
                digest = hmac.new(key, typed, hashlib.sha256).hexdigest()
                conn.execute(events.update().where(events.c.id == event.id)
                             .values(details={'email_digest': digest}))
        if rows:
            conn.execute(links.insert(), rows)
    late = [{'event_id': event_id, 'district_id': d}
            for event_id, obj, actor_id in unresolved
            for d in sorted(by_object.get(obj) or known['User'].get(str(actor_id), ()))]
    if late:
        conn.execute(links.insert(), late)
