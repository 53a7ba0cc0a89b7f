"""The catalog's write path and summary, on SQLite and on Postgres."""

from __future__ import annotations

import sqlalchemy as sa

from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord
from db.catalog import catalog_secret, catalog_status, write_items
from db.migrate import current_revision, ensure_schema, head_revision
from db.models import Author, MetricObservation, Video


def item(vid: str, likes: int | None = 5, followers: int | None = 10, caption: str | None = "hi") -> ParsedItem:
    return ParsedItem(
        video=VideoRecord(id=vid, author_id="77", caption=caption, hashtags=("x",)),
        author=AuthorRecord(id="77", handle="someone", followers=followers),
        metrics=MetricRecord(likes=likes, plays=100, author_followers=followers),
        raw={"id": vid, "caption": caption},
        source_format="item",
    )


def test_schema_is_at_head_and_upgrade_is_idempotent(engine):
    assert current_revision(engine) == head_revision()
    assert ensure_schema(engine) is False


def test_write_counts_new_updated_and_observations(engine):
    first = write_items(engine, [item("1"), item("2")], "test")
    assert (first.new, first.updated, first.authors, first.observations) == (2, 0, 1, 2)
    again = write_items(engine, [item("1"), item("2")], "test")
    assert (again.new, again.updated, again.authors, again.observations) == (0, 0, 0, 0)
    changed = write_items(engine, [item("1", caption="edited"), item("3")], "test")
    assert (changed.new, changed.updated, changed.observations) == (1, 1, 1)


def test_metrics_that_change_add_an_observation_and_keep_the_old_one(engine):
    write_items(engine, [item("1", likes=5)], "test")
    write_items(engine, [item("1", likes=9)], "test")
    with engine.connect() as conn:
        likes = conn.execute(sa.select(MetricObservation.likes).order_by(MetricObservation.id)).scalars().all()
    assert likes == [5, 9]


def test_a_missing_field_never_erases_a_known_value(engine):
    write_items(engine, [item("1", caption="known", followers=10)], "test")
    write_items(engine, [item("1", caption=None, followers=None)], "test")
    with engine.connect() as conn:
        assert conn.execute(sa.select(Video.caption)).scalar_one() == "known"
        assert conn.execute(sa.select(Author.followers)).scalar_one() == 10


def test_observed_author_counts_replace_simulated_ones(engine):
    write_items(engine, [item("1", followers=None)], "test")
    with engine.begin() as conn:
        conn.execute(sa.update(Author).values(followers=123, following=50, stats_provenance="simulated"))
    write_items(engine, [item("1", followers=999)], "test")
    with engine.connect() as conn:
        row = conn.execute(sa.select(Author.followers, Author.following, Author.stats_provenance)).one()
    assert tuple(row) == (999, None, "observed")


def test_status_counts(engine):
    write_items(engine, [item("1"), item("2", likes=None)], "test")
    status = catalog_status(engine)
    assert status == {
        "videos": 2, "authors": 1, "observations": {"observed": 2, "simulated": 0},
        "crawl_runs": 0, "media_files": 0, "snapshots": 0,
    }


def test_secret_is_created_once(engine):
    assert catalog_secret(engine) == catalog_secret(engine)
    assert len(catalog_secret(engine)) == 64


def test_withheld_counts_make_no_observation_but_keep_the_followers(engine):
    withheld = ParsedItem(
        video=VideoRecord(id="5", author_id="77"), author=AuthorRecord(id="77", followers=40),
        metrics=MetricRecord(author_followers=40), raw={"id": "5"}, source_format="item",
    )
    counts = write_items(engine, [withheld], "test")
    assert (counts.new, counts.observations) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(Author.followers)).scalar_one() == 40


def test_the_platforms_category_is_stored_as_observed(engine):
    labelled = ParsedItem(
        video=VideoRecord(id="6", category="comedy"), author=None, metrics=None, raw={"id": "6"}, source_format="item",
    )
    write_items(engine, [labelled, item("7")], "test")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Video.id, Video.category, Video.category_provenance).order_by(Video.id)).all()
    assert [tuple(r) for r in rows] == [("6", "comedy", "observed"), ("7", None, None)]


def test_a_raw_payload_with_nul_characters_is_stored_on_both_dialects(engine):
    nul = ParsedItem(video=VideoRecord(id="8"), author=None, metrics=None,
                     raw={"desc": "a\x00b", "path": "C:\\u0000"}, source_format="item")
    write_items(engine, [nul], "test")
    with engine.connect() as conn:
        raw = conn.execute(sa.select(Video.raw)).scalar_one()
    assert raw["path"] == "C:\\u0000" and raw["desc"] in ("ab", "a\x00b")  # Postgres drops the NUL, SQLite keeps it


def test_the_head_read_from_the_migration_headers_is_alembics():
    from db.migrate import _alembic_head, _head_from_headers

    assert _head_from_headers() == _alembic_head()
