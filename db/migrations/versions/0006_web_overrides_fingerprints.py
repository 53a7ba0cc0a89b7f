"""verdict overrides made by hand, perceptual media fingerprints, crawl depth by video

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
import db.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('verdict_override',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('video_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('rule_verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('rule_reasons', _JSON, nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('made_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('made_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['video.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verdict_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verdict_override_video_id'), ['video_id'], unique=False)

    with op.batch_alter_table('crawl_item', schema=None) as batch_op:
        batch_op.create_index('ix_crawl_item_video_depth', ['video_id', 'depth'], unique=False)

    op.create_table('media_fingerprint',
    sa.Column('media_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('frame_hashes', _JSON, nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('computed_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('media_sha256')
    )


def downgrade() -> None:
    op.drop_table('media_fingerprint')
    with op.batch_alter_table('crawl_item', schema=None) as batch_op:
        batch_op.drop_index('ix_crawl_item_video_depth')
    with op.batch_alter_table('verdict_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verdict_override_video_id'))
    op.drop_table('verdict_override')
