"""analysis runs: the input hash is known once the job has read the ratings, and a run whose
input matches a finished run's reuses it

Revision ID: 5c2e8f1a9d34
Revises: 1adc6a1c4fdb
Create Date: 2026-12-06 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2e8f1a9d34'
down_revision = '1adc6a1c4fdb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.alter_column('input_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('reused_run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_analysis_runs_reused_run_id_analysis_runs'),
                                    'analysis_runs', ['reused_run_id'], ['id'])


def downgrade():
    # A run whose job has not read its ratings yet has no hash: it cannot be kept as one.
    op.execute("DELETE FROM analysis_runs WHERE input_hash IS NULL")
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_analysis_runs_reused_run_id_analysis_runs'),
                                 type_='foreignkey')
        batch_op.drop_column('reused_run_id')
        batch_op.alter_column('input_hash', existing_type=sa.String(length=64), nullable=False)
