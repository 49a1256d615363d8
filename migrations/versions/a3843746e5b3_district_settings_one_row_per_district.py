"""District settings, one row per district

Every district setting in one table: reliability thresholds, findings, suppression minimums and
privacy. The practice privacy choice moves here from `scoring_settings`, which is dropped, so
there is one place it is read from. A district that never changed a setting has no row and reads
the defaults; the defaults are written out below as they were when this migration was made.

Revision ID: a3843746e5b3
Revises: df88c2fe2988
Create Date: 2026-12-03 09:54:30.534688

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3843746e5b3'
down_revision = 'df88c2fe2988'
branch_labels = None
depends_on = None

DEFAULTS = {
    "alpha_discard": 0.667, "alpha_rely": 0.800, "false_discovery_rate": 0.05,
    "rater_severity": 0.5, "school_effect": 0.3, "local_gap": 0.25,
    "min_raters": 3, "min_cross_marked_samples": 10, "calibration_visible_to_coaches": False,
}


def upgrade():
    op.create_table('district_settings',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('alpha_discard', sa.Double(), nullable=False),
    sa.Column('alpha_rely', sa.Double(), nullable=False),
    sa.Column('false_discovery_rate', sa.Double(), nullable=False),
    sa.Column('rater_severity', sa.Double(), nullable=False),
    sa.Column('school_effect', sa.Double(), nullable=False),
    sa.Column('local_gap', sa.Double(), nullable=False),
    sa.Column('min_raters', sa.Integer(), nullable=False),
    sa.Column('min_cross_marked_samples', sa.Integer(), nullable=False),
    sa.Column('practice_visible_to_coaches', sa.Boolean(), nullable=False),
    sa.Column('calibration_visible_to_coaches', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_district_settings_district_id_districts')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_district_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('district_id', name=op.f('pk_district_settings'))
    )
    old = sa.table('scoring_settings', sa.column('district_id', sa.Integer()),
                   sa.column('practice_visible_to_coaches', sa.Boolean()),
                   sa.column('updated_at', sa.DateTime(timezone=True)),
                   sa.column('updated_by_id', sa.Integer()))
    rows = op.get_bind().execute(sa.select(old)).mappings().all()
    if rows:
        new = sa.table('district_settings', *(sa.column(name) for name in (
            'district_id', 'practice_visible_to_coaches', 'updated_at', 'updated_by_id',
            *DEFAULTS)))
        op.bulk_insert(new, [{**DEFAULTS, **row} for row in rows])
    op.drop_table('scoring_settings')


def downgrade():
    op.create_table('scoring_settings',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('practice_visible_to_coaches', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_scoring_settings_district_id_districts')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_scoring_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('district_id', name=op.f('pk_scoring_settings'))
    )
    new = sa.table('district_settings', sa.column('district_id', sa.Integer()),
                   sa.column('practice_visible_to_coaches', sa.Boolean()),
                   sa.column('updated_at', sa.DateTime(timezone=True)),
                   sa.column('updated_by_id', sa.Integer()))
    op.execute(sa.table('scoring_settings', *(sa.column(c.name) for c in new.columns))
               .insert().from_select([c.name for c in new.columns], sa.select(new)))
    op.drop_table('district_settings')
