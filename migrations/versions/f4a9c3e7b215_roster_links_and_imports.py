"""Roster links (a school's or person's id in their district's roster) and roster imports

An import finds what an earlier import of the same district made by these links; an upload is
kept between its dry run and its apply.

Revision ID: f4a9c3e7b215
Revises: e4528a35998c
Create Date: 2026-12-03 14:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4a9c3e7b215'
down_revision = 'e4528a35998c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'roster_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('school', 'person', name='linkkind', native_enum=False,
                                  length=10), nullable=False),
        sa.Column('source_id', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                                name=op.f('fk_roster_links_district_id_districts')),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_roster_links_school_id_schools')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_roster_links_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_links')),
        sa.UniqueConstraint('district_id', 'kind', 'source_id',
                            name=op.f('uq_roster_links_district_id_kind_source_id')),
        sa.UniqueConstraint('district_id', 'school_id',
                            name=op.f('uq_roster_links_district_id_school_id')),
        sa.UniqueConstraint('district_id', 'user_id',
                            name=op.f('uq_roster_links_district_id_user_id')),
    )
    op.create_index(op.f('ix_roster_links_district_id'), 'roster_links', ['district_id'])
    op.create_index(op.f('ix_roster_links_school_id'), 'roster_links', ['school_id'])
    op.create_index(op.f('ix_roster_links_user_id'), 'roster_links', ['user_id'])
    op.create_table(
        'roster_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('format', sa.String(length=20), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Enum('planned', 'applied', name='importstatus',
                                    native_enum=False, length=10), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('applied_by_id', sa.Integer(), nullable=True),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'],
                                name=op.f('fk_roster_imports_applied_by_id_users')),
        sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                                name=op.f('fk_roster_imports_district_id_districts')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_roster_imports_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports')),
    )
    op.create_index(op.f('ix_roster_imports_district_id'), 'roster_imports', ['district_id'])


def downgrade():
    op.drop_index(op.f('ix_roster_imports_district_id'), table_name='roster_imports')
    op.drop_table('roster_imports')
    op.drop_index(op.f('ix_roster_links_user_id'), table_name='roster_links')
    op.drop_index(op.f('ix_roster_links_school_id'), table_name='roster_links')
    op.drop_index(op.f('ix_roster_links_district_id'), table_name='roster_links')
    op.drop_table('roster_links')
