"""initial catalog

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:59:26.755453
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
import db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('author',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('handle', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('nickname', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sec_uid', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('followers', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('following', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('hearts', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('video_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('account_created_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('stats_provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('account_created_provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('simulation', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('first_seen_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_author_handle'), ['handle'], unique=False)

    op.create_table('catalog_meta',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('crawl_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='running', nullable=False),
    sa.Column('stop_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('stats', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('snapshot',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('parent_version', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('manifest', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', 'version', name='uq_snapshot_version')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_name'), ['name'], unique=False)

    op.create_table('video',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('author_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('caption', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('hashtags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('create_time', db.types.UTCDateTime(), nullable=True),
    sa.Column('create_time_provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('music_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('music_title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('music_original', sa.Boolean(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('media_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('source_format', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('category_provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('first_seen_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('media_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('media_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('media_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('downloaded_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('download_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('download_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('claimed_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('probe', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('probed_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('probed_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('verdict_reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('rules_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('filtered_at', db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['author.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_video_media_sha256'), ['media_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_video_verdict'), ['verdict'], unique=False)

    op.create_table('crawl_item',
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('video_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('depth', sa.Integer(), server_default='0', nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('expanded_at', db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_run.id'], ),
    sa.ForeignKeyConstraint(['video_id'], ['video.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'video_id'),
    sa.UniqueConstraint('run_id', 'seq', name='uq_crawl_item_seq')
    )
    op.create_table('edge',
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('child_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('discovered_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['video.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['video.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_run.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'parent_id', 'child_id')
    )
    op.create_table('metric_observation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('video_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('observed_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('plays', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('likes', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('comments', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('shares', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('saves', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_followers', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('simulator', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('simulator_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sim_seed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('params_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('latent_score', sa.Float(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['video.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('video_id', 'provenance', 'fingerprint', name='uq_observation_values')
    )
    with op.batch_alter_table('metric_observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_observation_provenance'), ['provenance'], unique=False)
        batch_op.create_index('ix_observation_video_time', ['video_id', 'observed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('metric_observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_video_time')
        batch_op.drop_index(batch_op.f('ix_metric_observation_provenance'))

    op.drop_table('metric_observation')
    op.drop_table('edge')
    op.drop_table('crawl_item')
    with op.batch_alter_table('video', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_video_verdict'))
        batch_op.drop_index(batch_op.f('ix_video_media_sha256'))
        batch_op.drop_index(batch_op.f('ix_video_author_id'))

    op.drop_table('video')
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_name'))

    op.drop_table('snapshot')
    op.drop_table('crawl_run')
    op.drop_table('catalog_meta')
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_author_handle'))

    op.drop_table('author')
