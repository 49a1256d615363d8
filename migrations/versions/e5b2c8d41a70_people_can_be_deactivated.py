"""People can be deactivated, and exist before they have a password

A deactivated account keeps its ratings and its audit trail: deactivated_at replaces the
is_active_account flag (accounts already off get the moment of this migration). A person a
district administrator creates has no password until they are invited. Queue items a
deactivated rater had not submitted are withdrawn, not deleted. Names are indexed for the
people list, which pages through thousands by name.

Revision ID: e5b2c8d41a70
Revises: d3f1a7c9e2b4
Create Date: 2026-12-03 09:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b2c8d41a70'
down_revision = "d3f1a7c9e2b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255),
                              nullable=True)
        batch_op.create_index(batch_op.f('ix_users_display_name'), ['display_name'])
    op.execute("UPDATE users SET deactivated_at = CURRENT_TIMESTAMP "
               "WHERE is_active_account = false")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_active_account')
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_active_account', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.execute("UPDATE users SET is_active_account = false WHERE deactivated_at IS NOT NULL")
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_name'))
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255),
                              nullable=False)
        batch_op.drop_column('deactivated_at')
