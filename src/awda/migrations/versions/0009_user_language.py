"""user language: the language of the pages each user chose on /profile

Revision ID: 0009_user_language
Revises: 0008_field
Create Date: 2026-12-06 21:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_user_language'
down_revision = '0008_field'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
