"""Content fingerprints shared by rebuilds (SQLite and Postgres), ``verify --against``, ``--media``, stray and lost files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.models import Video
from tests.conftest import Cli
from tests.snapshots.builders import catalog_items
from tests.snapshots.test_snapshot_cli import fill, run_json

KEY = "a-shared-pseudonymisation-key-0123456789"


def built(cli: Cli) -> dict:
    fill(cli, catalog_items(120, authors=20, observed_every=1))
    created = run_json(cli, "snapshot", "create", "ds")
    return json.loads((Path(created["path"]) / "manifest.json").read_text())


def test_rebuilds_on_sqlite_and_postgres_share_one_content_fingerprint(tmp_path, postgres_server, monkeypatch):
    monkeypatch.setenv("CURATE_PSEUDONYM_KEY", KEY)
    first = Cli(tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}")
    second = Cli(tmp_path / "b", f"sqlite:///{tmp_path / 'b.db'}")
    postgres = Cli(tmp_path / "p", postgres_server.create_database("content_fp"))
    manifests = [built(c) for c in (first, second, postgres)]
    assert len({m["content_fingerprint"] for m in manifests}) == 1, "the same data rebuilt must share its content fingerprint"
    assert len({m["fingerprint"] for m in manifests}) == 3, "the whole-manifest fingerprint still covers created_at and the dialect"
    assert {m["catalog"]["dialect"] for m in manifests} == {"sqlite", "postgresql"}
    assert manifests[0]["pseudonymisation"] == {"key": "configured"}

    ok = first("snapshot", "verify", "ds@v1", "--against", tmp_path / "p" / "snapshots" / "ds" / "v1")
    assert "same content as" in ok.stdout
    as_json = json.loads(first("snapshot", "verify", "ds", "--against", tmp_path / "p", "--json").stdout)
    assert as_json["ok"] and as_json["against"]["same"] and as_json["against"]["a"] == manifests[0]["content_fingerprint"]

    monkeypatch.delenv("CURATE_PSEUDONYM_KEY")
    own_secret = Cli(tmp_path / "c", f"sqlite:///{tmp_path / 'c.db'}")
    other = built(own_secret)
    assert other["content_fingerprint"] != manifests[0]["content_fingerprint"]
    differs = first("snapshot", "verify", "ds", "--against", tmp_path / "c", ok=False)
    assert differs.exit_code == 1
    assert "column author_key differs" in differs.stderr and "labels differ" not in differs.stderr
    assert differs.stderr.strip().count("\n") == 0


def test_different_labels_and_splits_are_named(sqlite_cli, tmp_path):
    built(sqlite_cli)
    run_json(sqlite_cli, "snapshot", "create", "other", "--label-percentile", "60", "--seed", "3")
    result = sqlite_cli("snapshot", "verify", "ds", "--against", tmp_path / "home" / "snapshots" / "other" / "v1", ok=False)
    assert "labels differ (spec, params, definitions)" in result.stderr and "split assignment differs" in result.stderr
    assert "column viral_er differs" in result.stderr and "column likes differs" not in result.stderr


def test_stray_files_in_subfolders_are_caught(sqlite_cli):
    manifest = built(sqlite_cli)
    folder = sqlite_cli.home / "snapshots" / "ds" / "v1"
    (folder / "sub").mkdir()
    (folder / "sub" / "x.parquet").write_bytes(b"PAR1")
    result = sqlite_cli("snapshot", "verify", "ds", ok=False)
    assert result.exit_code == 1 and "sub/x.parquet is not part of the snapshot" in result.stderr
    assert manifest["files"].keys() == {"videos.parquet"}


def test_media_are_rehashed_with_media(sqlite_cli):
    fill(sqlite_cli, catalog_items(30, authors=6, observed_every=1))
    media = sqlite_cli.home / "media"
    media.mkdir(parents=True)
    engine = create_catalog_engine(sqlite_cli.db_url)
    try:
        with engine.begin() as conn:
            for n, vid in enumerate(conn.execute(sa.select(Video.id).order_by(Video.id)).scalars().all()[:5]):
                path = media / f"{vid}.mp4"
                path.write_bytes(bytes([n]) * 1000)
                conn.execute(sa.update(Video).where(Video.id == vid).values(
                    media_path=str(path), media_sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    finally:
        engine.dispose()
    run_json(sqlite_cli, "snapshot", "create", "ds")
    assert "5 media files match" in sqlite_cli("snapshot", "verify", "ds", "--media").stdout
    victim = sorted(media.iterdir())[2]
    data = bytearray(victim.read_bytes())
    data[500] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert sqlite_cli("snapshot", "verify", "ds").exit_code == 0, "without --media the media are not read"
    result = sqlite_cli("snapshot", "verify", "ds", "--media", ok=False)
    assert result.exit_code == 1 and f"media media/{victim.name} changed" in result.stderr
    victim.unlink()
    assert f"media media/{victim.name} is missing" in sqlite_cli("snapshot", "verify", "ds", "--media", ok=False).stderr


def test_a_deleted_manifest_gets_a_message_that_does_not_contradict_itself(sqlite_cli):
    built(sqlite_cli)
    (sqlite_cli.home / "snapshots" / "ds" / "v1" / "manifest.json").unlink()
    for ref in ("ds", "ds@v1"):
        result = sqlite_cli("snapshot", "verify", ref, ok=False)
        message = result.stderr.strip()
        assert result.exit_code == 1 and "manifest.json is missing" in message and "1 file(s)" in message
        assert "no snapshot named" not in message and message.count("\n") == 0


def test_the_pseudonymisation_key_comes_from_the_environment_or_the_config(tmp_path):
    import pytest

    from core.errors import ConfigError
    from curate.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text(f'pseudonym_key = "{KEY}-from-config"\n')
    assert load_settings(home=tmp_path, config=config, environ={}).pseudonym_key == f"{KEY}-from-config"
    from_env = load_settings(home=tmp_path, config=config, environ={"CURATE_PSEUDONYM_KEY": KEY})
    assert from_env.pseudonym_key == KEY and KEY not in repr(from_env)
    assert load_settings(home=tmp_path / "none", environ={}).pseudonym_key is None
    with pytest.raises(ConfigError, match="at least 16 characters"):
        load_settings(home=tmp_path, environ={"CURATE_PSEUDONYM_KEY": "short"})
