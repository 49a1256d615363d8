"""Scoring rounds have a due date

Optional: rounds opened before it have none, and a coach may open a round without one.

Revision ID: a41d7c2e9b10
Revises: a3c9e5f1d2b7
Create Date: 2026-12-03 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a41d7c2e9b10'
down_revision = 'a3c9e5f1d2b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scoring_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('scoring_rounds', schema=None) as batch_op:
        batch_op.drop_column('due_date')
