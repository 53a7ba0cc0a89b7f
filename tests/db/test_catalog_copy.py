"""Growing from SQLite to Postgres: ``curate catalog copy``, ``curate status`` naming the catalog, global options anywhere."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from curate.cli import hoist_global_options
from db.catalog import catalog_secret
from db.catalog_copy import copy_catalog
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import MetricObservation
from tests.conftest import Cli
from tests.test_table_story import student_table


@pytest.fixture
def source(tmp_path) -> Cli:
    """A SQLite catalog with a table imported, synth run and a snapshot made."""
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")
    student_table(tmp_path / "t.csv", videos=300, creators=40)
    cli("import", tmp_path / "t.csv")
    cli("synth")
    cli("snapshot", "create", "students")
    return cli


def test_copy_to_postgres_is_complete_keeps_the_secret_and_rebuilds_the_same_content(source, postgres_server, tmp_path):
    url = postgres_server.create_database("copy_target")
    copied = json.loads(source("catalog", "copy", "--to", url, "--batch-rows", "64", "--json").stdout)
    tables = copied["tables"]
    assert tables["video"] == {"source": 300, "written": 300, "target": 300}
    assert tables["author"]["target"] == 40 and tables["snapshot"]["target"] == 1 and tables["catalog_meta"]["target"] >= 1
    assert copied["to"]["dialect"] == "postgresql" and copied["to"]["database"] == "copy_target"

    again = json.loads(source("catalog", "copy", "--to", url, "--json").stdout)
    assert all(t["written"] == 0 and t["target"] == t["source"] for t in again["tables"].values()), "a second copy adds nothing"

    src, dst = create_catalog_engine(source.db_url), create_catalog_engine(url)
    try:
        assert catalog_secret(src) == catalog_secret(dst)
        with dst.begin() as conn:  # the identity sequence goes on after the copied ids
            new_id = conn.execute(sa.insert(MetricObservation).values(
                video_id=conn.execute(sa.text("SELECT id FROM video LIMIT 1")).scalar_one(), provenance="observed",
                fingerprint="x" * 40).returning(MetricObservation.id)).scalar_one()
            assert new_id > conn.execute(sa.text("SELECT MAX(id) FROM metric_observation WHERE fingerprint <> :f"), {"f": "x" * 40}).scalar_one()
            conn.execute(sa.delete(MetricObservation).where(MetricObservation.id == new_id))
    finally:
        src.dispose()
        dst.dispose()

    # the same data folder on the copy: the next version has the same rows, labels, splits and author keys
    on_postgres = Cli(source.home, url)
    status = json.loads(on_postgres("status", "--json").stdout)
    assert status["videos"] == 300 and status["catalog"]["dialect"] == "postgresql"
    first = json.loads(source("snapshot", "show", "students@v1", "--json").stdout)
    second = json.loads(on_postgres("snapshot", "create", "students", "--json").stdout)
    assert second["content_fingerprint"] == first["content_fingerprint"]


def test_an_interrupted_copy_resumes_without_duplicates(source, tmp_path):
    src = create_catalog_engine(source.db_url)
    dst = create_catalog_engine(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        upgrade(dst)
        partial = copy_catalog(src, dst, batch_rows=50, only=("author", "catalog_meta", "video"))
        assert partial.target["video"] == 300
        done = copy_catalog(src, dst, batch_rows=50)
        assert done.written["video"] == 0 and done.written["metric_observation"] == done.source["metric_observation"]
        assert done.target == done.source
    finally:
        src.dispose()
        dst.dispose()


def test_a_target_with_its_own_secret_or_extra_rows_is_refused(source, tmp_path):
    other = Cli(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}")
    student_table(tmp_path / "o.csv", videos=20, creators=5, seed=3)
    other("import", tmp_path / "o.csv")
    engine = create_catalog_engine(other.db_url)
    try:
        catalog_secret(engine)
    finally:
        engine.dispose()
    result = source("catalog", "copy", "--to", other.db_url, ok=False)
    assert result.exit_code == 1 and "its own pseudonymisation secret" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_status_names_the_catalog_without_a_password(postgres_server, tmp_path):
    url = postgres_server.create_database("named_db")
    with_password = url.replace("postgres@", "postgres:s3cret-pw@") if "postgres@" in url else url
    cli = Cli(tmp_path / "home", with_password)
    shown = cli("status")
    assert "postgresql database named_db on 127.0.0.1" in shown.stdout and "s3cret" not in shown.stdout + shown.stderr
    where = json.loads(cli("status", "--json").stdout)["catalog"]
    assert where["database"] == "named_db" and where["host"] == "127.0.0.1" and "s3cret" not in json.dumps(where)
    assert "password" not in where


def test_global_options_are_accepted_after_the_subcommand(tmp_path):
    assert hoist_global_options(["status", "--db", "sqlite:///x", "--json", "--home=h"]) == ["--db", "sqlite:///x", "--home=h", "status", "--json"]
    assert hoist_global_options(["--home", "a", "status"]) == ["--home", "a", "status"]
    assert hoist_global_options(["import", "--", "--db"]) == ["import", "--", "--db"]
    cli = Cli(tmp_path / "env-home", f"sqlite:///{tmp_path / 'env.db'}")
    elsewhere = tmp_path / "given.db"
    out = json.loads(cli("status", "--json", "--db", f"sqlite:///{elsewhere}", "--home", tmp_path / "given").stdout)
    assert out["catalog"]["database"] == str(elsewhere) and out["home"] == str(tmp_path / "given")
    assert elsewhere.exists() and not (tmp_path / "env.db").exists()
