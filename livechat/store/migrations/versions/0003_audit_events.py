"""the audit trail: one append-only table of events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 (issue 28: who used what, kept where every replica sees it)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('analyst', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index(op.f('ix_audit_events_analyst'), 'audit_events', ['analyst'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_events_analyst'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_table('audit_events')
