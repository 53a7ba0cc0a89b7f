"""research API quota ledger; videos noticed gone

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 15:15:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import db.types

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_quota',
    sa.Column('api', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('requests', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False),
    sa.Column('records', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False),
    sa.Column('exhausted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('api', 'day')
    )
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gone_at', db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('gone_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.drop_column('gone_reason')
        batch_op.drop_column('gone_at')
    op.drop_table('api_quota')
