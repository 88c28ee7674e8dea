"""conversations, record, tables and extras

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-07 (the first schema of the store, issue 26)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=320), server_default='local', nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('title', sa.String(length=500), server_default='', nullable=False),
    sa.Column('questions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('totals', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_updated_at'), ['updated_at'], unique=False)

    op.create_table('set_extras',
    sa.Column('set_key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('set_key', 'name', name=op.f('pk_set_extras'))
    )
    op.create_table('table_blobs',
    sa.Column('table_key', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('table_key', name=op.f('pk_table_blobs'))
    )
    op.create_table('blob_chunks',
    sa.Column('table_key', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['table_key'], ['table_blobs.table_key'], name=op.f('fk_blob_chunks_table_key_table_blobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('table_key', 'seq', name=op.f('pk_blob_chunks'))
    )
    op.create_table('conversation_tables',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('table_key', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('sql_name', sa.String(length=200), nullable=True),
    sa.Column('ticked', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('shown', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('sheet', sa.String(length=500), nullable=True),
    sa.Column('header_row', sa.Integer(), nullable=True),
    sa.Column('encoding', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_tables_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'position', name=op.f('pk_conversation_tables'))
    )
    with op.batch_alter_table('conversation_tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_tables_table_key'), ['table_key'], unique=False)

    op.create_table('record_entries',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_record_entries_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'position', name=op.f('pk_record_entries'))
    )


def downgrade() -> None:
    op.drop_table('record_entries')
    with op.batch_alter_table('conversation_tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_tables_table_key'))

    op.drop_table('conversation_tables')
    op.drop_table('blob_chunks')
    op.drop_table('table_blobs')
    op.drop_table('set_extras')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_updated_at'))

    op.drop_table('conversations')
