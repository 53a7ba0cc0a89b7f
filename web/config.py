"""What the web app is given: where the data is, the catalog, and whether it may write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: the largest upload "ask a model" accepts
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class WebConfig:
    """The data folder, the catalog URL, and whether verdicts may be overridden by hand."""

    home: Path
    db_url: str
    allow_writes: bool = False
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    @property
    def media_dir(self) -> Path:
        """Downloaded media: the only catalog files the app streams."""
        return self.home / "media"

    @property
    def snapshots_dir(self) -> Path:
        """Frozen snapshots."""
        return self.home / "snapshots"

    @property
    def runs_dir(self) -> Path:
        """Training runs (their PNG figures are served)."""
        return self.home / "runs"

    @property
    def features_dir(self) -> Path:
        """The extractors' feature cache (read by prediction)."""
        return self.home / "features"

    @property
    def uploads_dir(self) -> Path:
        """Where uploads wait while a model scores them (removed afterwards)."""
        return self.home / "uploads"
