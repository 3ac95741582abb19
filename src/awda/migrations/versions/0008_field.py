"""field: OpenRosa submissions by instanceID and their sealed attachments

Revision ID: 0008_field
Revises: 0007_linkage
Create Date: 2026-12-06 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import awda.db

revision = '0008_field'
down_revision = '0007_linkage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.String(length=32), nullable=False),
    sa.Column('form_version', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=64), nullable=True),
    sa.Column('record_type', sa.String(length=16), nullable=True),
    sa.Column('record_uid', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submitted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('received_at', awda.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', awda.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_field_submissions_site_id_sites')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_field_submissions_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_submissions')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_field_submissions_instance_id'))
    )
    with op.batch_alter_table('field_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_submissions_site_id'), ['site_id'], unique=False)

    op.create_table('field_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', awda.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['field_submissions.id'], name=op.f('fk_field_attachments_submission_id_field_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_attachments')),
    sa.UniqueConstraint('submission_id', 'filename', name=op.f('uq_field_attachments_submission_id'))
    )
    with op.batch_alter_table('field_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_attachments_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('field_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_attachments_submission_id'))
    op.drop_table('field_attachments')
    with op.batch_alter_table('field_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_submissions_site_id'))
    op.drop_table('field_submissions')
