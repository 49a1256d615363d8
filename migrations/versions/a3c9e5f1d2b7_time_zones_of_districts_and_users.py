"""time zones: each district's, and a person's own where they chose one

Revision ID: a3c9e5f1d2b7
Revises: 318b534381c8
Create Date: 2026-12-03 08:45:00

Stored times stay UTC. Existing districts read times in UTC, as they did before, until their
administrator sets their zone; people follow their district's unless they choose their own.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3c9e5f1d2b7'
down_revision = '318b534381c8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC',
                                      nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
