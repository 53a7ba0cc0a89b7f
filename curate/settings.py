"""Settings, resolved once, in one direction: defaults < config file < environment < command line.

The result is a frozen object passed down to the stages; nothing deeper reads the
environment. The config file is TOML: top-level keys ``home`` and ``db``, and one
table per command (``[crawl]``, ``[download]`` …) whose keys are that command's
option names, used as its defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

ENV_HOME = "CURATE_HOME"
ENV_DB = "CURATE_DB_URL"
ENV_CONFIG = "CURATE_CONFIG"
ENV_PSEUDONYM_KEY = "CURATE_PSEUDONYM_KEY"
ENV_MEDIA_ROOT = "CURATE_MEDIA_ROOT"
DEFAULT_HOME = Path("curate-data")


@dataclass(frozen=True)
class Settings:
    """Where the catalog and the files live, and the config file's per-command tables."""

    home: Path
    db_url: str
    config_file: Path | None = None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: secrets named in the environment (tokens, cookies, proxies), never logged or stored
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: the key of author pseudonyms in snapshots, so that two catalogs give the same author keys (None: the catalog's secret)
    pseudonym_key: str | None = field(default=None, repr=False)
    #: where media files live when not HOME/media (a folder several machines share); see core.media_root
    media_root: Path | None = None

    @property
    def media_dir(self) -> Path:
        """Downloaded media files: the media root."""
        return self.media_root or self.home / "media"

    @property
    def snapshots_dir(self) -> Path:
        """Frozen snapshots, ``NAME/vN``."""
        return self.home / "snapshots"

    @property
    def features_dir(self) -> Path:
        """The extractors' feature cache."""
        return self.home / "features"

    @property
    def runs_dir(self) -> Path:
        """Training runs."""
        return self.home / "runs"

    @property
    def reports_dir(self) -> Path:
        """HTML reports."""
        return self.home / "reports"

    def section(self, name: str) -> Mapping[str, Any]:
        """The config file's table for one command (empty when absent)."""
        return self.sections.get(name, {})


#: read from the environment into ``Settings.secrets`` (CURATE_CA_CERT, a CA file path, travels with them, unsecret)
SECRET_ENV = ("CURATE_MS_TOKEN", "CURATE_COOKIES", "CURATE_PROXY", "MS_TOKEN", "CURATE_CA_CERT",
              "CURATE_RESEARCH_CLIENT_KEY", "CURATE_RESEARCH_CLIENT_SECRET")


def load_settings(
    home: Path | None = None, db: str | None = None, config: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Builds the settings from the layers; arguments are the command line's values (None = not given)."""
    env = os.environ if environ is None else environ
    config_path = config or _env_path(env, ENV_CONFIG)
    home_for_config = Path(home or env.get(ENV_HOME) or DEFAULT_HOME)
    file_values = _read_config(config_path or home_for_config / "config.toml", required=config_path is not None)
    resolved_home = Path(home or env.get(ENV_HOME) or file_values.get("home") or DEFAULT_HOME).expanduser()
    db_url = db or env.get(ENV_DB) or file_values.get("db") or _default_db(resolved_home)
    sections = {k: v for k, v in file_values.items() if isinstance(v, dict)}
    found = {k: env[k] for k in SECRET_ENV if env.get(k)}
    key = env.get(ENV_PSEUDONYM_KEY) or file_values.get("pseudonym_key") or None
    if key is not None and (not isinstance(key, str) or len(key) < 16):
        raise ConfigError(f"the pseudonymisation key ({ENV_PSEUDONYM_KEY} or pseudonym_key) must be a string of at least 16 characters")
    media_root = env.get(ENV_MEDIA_ROOT) or file_values.get("media_root")
    return Settings(home=resolved_home, db_url=db_url, config_file=config_path, sections=sections, secrets=found,
                    pseudonym_key=key, media_root=Path(media_root).expanduser() if media_root else None)


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def _default_db(home: Path) -> str:
    return f"sqlite:///{(home / 'catalog.db').resolve()}"


def _read_config(path: Path, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"config file not found: {path}")
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
