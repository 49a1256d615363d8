"""schools can be archived; their public context is rows of district-defined measures

Revision ID: d3f1a7c9e2b4
Revises: a3843746e5b3
Create Date: 2026-12-03 10:00:00

Each school's low-income share moves into a context row of a "Low-income share" measure of its
district, with no year and the source "not recorded": nobody recorded either before.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3f1a7c9e2b4'
down_revision = 'a3843746e5b3'
branch_labels = None
depends_on = None

KEY = 'low_income_share'
LABEL = 'Low-income share'
DESCRIPTION = 'Share of students from low-income households, as published by the district.'
NOT_RECORDED = 'not recorded'

schools = sa.table('schools', sa.column('id', sa.Integer), sa.column('district_id', sa.Integer),
                   sa.column('low_income_share', sa.Double))
measures = sa.table('context_measures', sa.column('id', sa.Integer),
                    sa.column('district_id', sa.Integer), sa.column('key', sa.String),
                    sa.column('label', sa.String), sa.column('unit', sa.String),
                    sa.column('description', sa.String), sa.column('created_at', sa.DateTime))
context = sa.table('school_context', sa.column('school_id', sa.Integer),
                   sa.column('measure_id', sa.Integer), sa.column('value', sa.Double),
                   sa.column('year', sa.Integer), sa.column('source', sa.String))


def upgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'context_measures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('unit', sa.Enum('share', 'count', name='measureunit', native_enum=False,
                                  length=10), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                                name=op.f('fk_context_measures_district_id_districts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_context_measures')),
        sa.UniqueConstraint('district_id', 'key',
                            name=op.f('uq_context_measures_district_id_key')),
        sa.UniqueConstraint('district_id', 'label',
                            name=op.f('uq_context_measures_district_id_label')),
    )
    op.create_index(op.f('ix_context_measures_district_id'), 'context_measures', ['district_id'])
    op.create_table(
        'school_context',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('measure_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['measure_id'], ['context_measures.id'],
                                name=op.f('fk_school_context_measure_id_context_measures')),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_school_context_school_id_schools')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_school_context')),
        sa.UniqueConstraint('school_id', 'measure_id',
                            name=op.f('uq_school_context_school_id_measure_id')),
    )
    op.create_index(op.f('ix_school_context_measure_id'), 'school_context', ['measure_id'])
    op.create_index(op.f('ix_school_context_school_id'), 'school_context', ['school_id'])
    _move_low_income_shares()
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('low_income_share')


def _move_low_income_shares():
    connection = op.get_bind()
    rows = connection.execute(sa.select(schools.c.id, schools.c.district_id,
                                         schools.c.low_income_share)
                              .where(schools.c.low_income_share.is_not(None))).all()
    measure_of = {}
    for district_id in sorted({row.district_id for row in rows}):
        measure_of[district_id] = connection.execute(
            measures.insert().values(district_id=district_id, key=KEY, label=LABEL, unit='share',
                                     description=DESCRIPTION, created_at=sa.func.now())
            .returning(measures.c.id)).scalar_one()
    for row in rows:
        connection.execute(context.insert().values(
            school_id=row.id, measure_id=measure_of[row.district_id],
            value=row.low_income_share, year=None, source=NOT_RECORDED))


def downgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_income_share', sa.Double(), nullable=True))
    connection = op.get_bind()
    shares = connection.execute(
        sa.select(context.c.school_id, context.c.value)
        .join(measures, measures.c.id == context.c.measure_id).where(measures.c.key == KEY)).all()
    for school_id, value in shares:
        connection.execute(schools.update().where(schools.c.id == school_id)
                           .values(low_income_share=value))
    op.drop_index(op.f('ix_school_context_school_id'), table_name='school_context')
    op.drop_index(op.f('ix_school_context_measure_id'), table_name='school_context')
    op.drop_table('school_context')
    op.drop_index(op.f('ix_context_measures_district_id'), table_name='context_measures')
    op.drop_table('context_measures')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
