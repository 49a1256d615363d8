"""district setting: password login allowed

Revision ID: 00d7cfa22539
Revises: f4a9c3e7b215
Create Date: 2026-12-03 14:08:19.766406

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '00d7cfa22539'
down_revision = 'f4a9c3e7b215'
branch_labels = None
depends_on = None


def upgrade():
    # Districts that already have a settings row keep password login, the setting's default.
    with op.batch_alter_table('district_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_login', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('district_settings', schema=None) as batch_op:
        batch_op.drop_column('password_login')
