"""Anchor pools: practice or calibration

Existing anchors become calibration anchors: none of them turns visible in practice unasked, so
no paper already seeded as a validity paper can be learnt; coaches move the ones meant for
practice on each anchor's page.

Revision ID: 318b534381c8
Revises: b7d1e2a9c4f0
Create Date: 2026-12-02 08:07:07.509031

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '318b534381c8'
down_revision = 'b7d1e2a9c4f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool', sa.Enum('practice', 'calibration', name='anchorpool', native_enum=False, length=20), server_default='calibration', nullable=False))
        batch_op.create_index(batch_op.f('ix_anchors_pool'), ['pool'], unique=False)


def downgrade():
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anchors_pool'))
        batch_op.drop_column('pool')
