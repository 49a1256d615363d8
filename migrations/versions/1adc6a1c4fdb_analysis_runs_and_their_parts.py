"""analysis runs and their parts: the statistics engine's stored results, one row per part

Revision ID: 1adc6a1c4fdb
Revises: b7e3d1f0a942
Create Date: 2026-12-04 18:55:48.387101

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1adc6a1c4fdb'
down_revision = 'b7e3d1f0a942'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analysis_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_type', sa.String(length=20), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='runstatus', native_enum=False, length=20), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('engine_version', sa.String(length=60), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('n_ratings', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=60), nullable=True),
    sa.Column('step_timings', sa.JSON(), nullable=False),
    sa.Column('progress_version', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_analysis_runs_district_id_districts')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_analysis_runs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_runs'))
    )
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_runs_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_runs_input_hash'), ['input_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_runs_scope_id'), ['scope_id'], unique=False)

    op.create_table('analysis_run_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], name=op.f('fk_analysis_run_parts_run_id_analysis_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_run_parts')),
    sa.UniqueConstraint('run_id', 'name', name=op.f('uq_analysis_run_parts_run_id_name'))
    )
    with op.batch_alter_table('analysis_run_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_run_parts_run_id'), ['run_id'], unique=False)



def downgrade():
    with op.batch_alter_table('analysis_run_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_run_parts_run_id'))

    op.drop_table('analysis_run_parts')
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_runs_scope_id'))
        batch_op.drop_index(batch_op.f('ix_analysis_runs_input_hash'))
        batch_op.drop_index(batch_op.f('ix_analysis_runs_district_id'))

    op.drop_table('analysis_runs')
