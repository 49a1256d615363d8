"""ratings indexed by their context, kind and submission time (a round's, for its report pages)

Revision ID: 4337b324dc71
Revises: 5c2e8f1a9d34
Create Date: 2026-12-06 21:22:08.238657

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4337b324dc71'
down_revision = '5c2e8f1a9d34'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_context', ['context_type', 'context_id', 'kind', 'submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_context')
