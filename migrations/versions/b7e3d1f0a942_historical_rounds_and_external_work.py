"""Historical rounds and external work, for past moderations imported from a spreadsheet

A scoring round may be historical (imported by `flask ratings import`, closed from the start,
with its source file's name); a work sample may be external (known only by its scores: no file,
no pages, its id in the file kept as external_label). Nobody here opened such a round, uploaded
such work or promoted its anchor, so those three columns may be empty.

Revision ID: b7e3d1f0a942
Revises: 00d7cfa22539
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3d1f0a942'
down_revision = '00d7cfa22539'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scoring_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_historical', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('source_file', sa.String(length=255), nullable=True))
        batch_op.alter_column('opened_by_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('work_samples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_external', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('external_label', sa.String(length=200), nullable=True))
        batch_op.alter_column('uploaded_by_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.alter_column('promoted_by_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Imported rounds and their external work cannot exist without these columns.
    with op.batch_alter_table('anchors', schema=None) as batch_op:
        batch_op.alter_column('promoted_by_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('work_samples', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('external_label')
        batch_op.drop_column('is_external')
    with op.batch_alter_table('scoring_rounds', schema=None) as batch_op:
        batch_op.alter_column('opened_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('source_file')
        batch_op.drop_column('is_historical')
