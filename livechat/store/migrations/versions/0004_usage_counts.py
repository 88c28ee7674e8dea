"""budgets: daily usage per analyst and the voice calls open now

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 (issue 28: budgets enforced on the server, counted in the store)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'usage_daily',
        sa.Column('analyst', sa.String(length=320), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('seconds', sa.Float(), server_default='0', nullable=False),
        sa.Column('tokens', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('tool_calls', sa.Integer(), server_default='0', nullable=False),
        sa.Column('calls', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('analyst', 'day', name=op.f('pk_usage_daily')),
    )
    op.create_index(op.f('ix_usage_daily_day'), 'usage_daily', ['day'], unique=False)
    op.create_table(
        'usage_open_calls',
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('analyst', sa.String(length=320), nullable=False),
        sa.Column('started_at', sa.Float(), nullable=False),
        sa.Column('seen_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('call_id', name=op.f('pk_usage_open_calls')),
    )
    op.create_index(op.f('ix_usage_open_calls_analyst'), 'usage_open_calls', ['analyst'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_usage_open_calls_analyst'), table_name='usage_open_calls')
    op.drop_table('usage_open_calls')
    op.drop_index(op.f('ix_usage_daily_day'), table_name='usage_daily')
    op.drop_table('usage_daily')
