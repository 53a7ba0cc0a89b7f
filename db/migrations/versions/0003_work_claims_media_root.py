"""work claims for every stage, the media root a file was stored in

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02 15:20:00
"""
from alembic import op
import sqlalchemy as sa
import db.types

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_claim',
    sa.Column('stage', sa.String(length=96), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('claimed_by', sa.String(), nullable=True),
    sa.Column('claimed_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('stage', 'key')
    )
    with op.batch_alter_table('work_claim', schema=None) as batch_op:
        batch_op.create_index('ix_work_claim_claimed_by', ['claimed_by'], unique=False)
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_root', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.drop_column('media_root')
    with op.batch_alter_table('work_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_work_claim_claimed_by')
    op.drop_table('work_claim')
