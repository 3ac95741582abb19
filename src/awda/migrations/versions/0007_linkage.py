"""linkage: runs, candidate pairs, reversible merges

Revision ID: 0007_linkage
Revises: 0006
Create Date: 2026-12-06 18:15:51.266558
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import awda.db

revision = '0007_linkage'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('linkage_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('started_at', awda.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', awda.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('run_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('backend', sa.String(length=16), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.Column('review_threshold', sa.Float(), nullable=False),
    sa.Column('merge_threshold', sa.Float(), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_by'], ['users.id'], name=op.f('fk_linkage_runs_run_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linkage_runs')),
    sa.UniqueConstraint('uid', name=op.f('uq_linkage_runs_uid'))
    )
    op.create_table('link_candidates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_a_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_b_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_a_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_b_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('evidence', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', awda.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_link_candidates_decided_by_users')),
    sa.ForeignKeyConstraint(['household_a_id'], ['households.id'], name=op.f('fk_link_candidates_household_a_id_households')),
    sa.ForeignKeyConstraint(['household_b_id'], ['households.id'], name=op.f('fk_link_candidates_household_b_id_households')),
    sa.ForeignKeyConstraint(['person_a_id'], ['persons.id'], name=op.f('fk_link_candidates_person_a_id_persons')),
    sa.ForeignKeyConstraint(['person_b_id'], ['persons.id'], name=op.f('fk_link_candidates_person_b_id_persons')),
    sa.ForeignKeyConstraint(['run_id'], ['linkage_runs.id'], name=op.f('fk_link_candidates_run_id_linkage_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_candidates')),
    sa.UniqueConstraint('person_a_id', 'person_b_id', name=op.f('uq_link_candidates_person_a_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_link_candidates_uid'))
    )
    with op.batch_alter_table('link_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_candidates_household_a_id'), ['household_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_candidates_household_b_id'), ['household_b_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_candidates_person_a_id'), ['person_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_candidates_person_b_id'), ['person_b_id'], unique=False)
        batch_op.create_index('ix_link_candidates_queue', ['status', 'probability'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_candidates_run_id'), ['run_id'], unique=False)

    op.create_table('person_merges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('group_uid', sa.String(length=36), nullable=False),
    sa.Column('kept_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merged_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('candidate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('merged_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('merged_at', awda.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('undone_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('undone_at', awda.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['link_candidates.id'], name=op.f('fk_person_merges_candidate_id_link_candidates')),
    sa.ForeignKeyConstraint(['kept_person_id'], ['persons.id'], name=op.f('fk_person_merges_kept_person_id_persons')),
    sa.ForeignKeyConstraint(['merged_by'], ['users.id'], name=op.f('fk_person_merges_merged_by_users')),
    sa.ForeignKeyConstraint(['merged_person_id'], ['persons.id'], name=op.f('fk_person_merges_merged_person_id_persons')),
    sa.ForeignKeyConstraint(['undone_by'], ['users.id'], name=op.f('fk_person_merges_undone_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_merges')),
    sa.UniqueConstraint('uid', name=op.f('uq_person_merges_uid'))
    )
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merges_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merges_group_uid'), ['group_uid'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merges_kept_person_id'), ['kept_person_id'], unique=False)
        batch_op.create_index('uq_person_merges_active', ['merged_person_id'], unique=True, sqlite_where=sa.text('undone_at IS NULL'), postgresql_where=sa.text('undone_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.drop_index('uq_person_merges_active', sqlite_where=sa.text('undone_at IS NULL'), postgresql_where=sa.text('undone_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_person_merges_kept_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_merges_group_uid'))
        batch_op.drop_index(batch_op.f('ix_person_merges_candidate_id'))

    op.drop_table('person_merges')
    with op.batch_alter_table('link_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_candidates_run_id'))
        batch_op.drop_index('ix_link_candidates_queue')
        batch_op.drop_index(batch_op.f('ix_link_candidates_person_b_id'))
        batch_op.drop_index(batch_op.f('ix_link_candidates_person_a_id'))
        batch_op.drop_index(batch_op.f('ix_link_candidates_household_b_id'))
        batch_op.drop_index(batch_op.f('ix_link_candidates_household_a_id'))

    op.drop_table('link_candidates')
    op.drop_table('linkage_runs')
