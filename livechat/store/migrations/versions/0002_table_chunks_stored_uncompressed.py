"""table chunks stored as they are (no second compression)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 (issue 26: saving a 1M x 20 table within 1.5 s on PostgreSQL)

A table's chunks are Parquet pages already compressed with LZ4. PostgreSQL's default
storage for bytea (EXTENDED) runs pglz over each value again for a few percent: saving a
1,000,000 x 20 table took 1.08 s, against 0.22 s with EXTERNAL (out of line, not
compressed). A storage setting exists only on PostgreSQL; on SQLite there is nothing to
change, so this revision only records its number there.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTENDED')
