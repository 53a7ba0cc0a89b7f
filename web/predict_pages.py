"""Ask a model: upload a video (size and type checked), say what else is known, and a run scores it as `curate predict` does."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import CurateError
from web.app import WebState, state_of
from web.files import MEDIA_TYPES
from web.run_pages import list_runs

CHUNK = 1 << 20


class UploadError(CurateError):
    """An upload that cannot be scored: too large, not a video, or no run chosen."""


async def ask(request: Request) -> Response:
    """The form (GET) or the answer (POST)."""
    state = state_of(request)
    runs = [r for r in list_runs(state.config.runs_dir)]
    if request.method == "GET":
        return state.page(request, "predict.html", title="ask a model", runs=runs, answer=None, error=None, form={})
    form = await request.form(max_part_size=state.config.max_upload_bytes + CHUNK)
    values = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
    try:
        answer = await _answer(state, form, values, {r["name"] for r in runs})
        error, status = None, 200
    except UploadError as exc:
        answer, error, status = None, str(exc), 400
    return state.page(request, "predict.html", status_code=status, title="ask a model", runs=runs, answer=answer, error=error, form=values)


async def _answer(state: WebState, form: Any, values: dict[str, str], runs: set[str]) -> dict[str, Any]:
    upload = form.get("video")
    if values.get("run") not in runs:
        raise UploadError("choose a trained run (train one with `curate train`)")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadError("choose a video file to upload")
    path = await _save(state, upload)
    try:
        return await asyncio.to_thread(_score, state, values, path, upload.filename)
    finally:
        path.unlink(missing_ok=True)


async def _save(state: WebState, upload: UploadFile) -> Path:
    """Writes the upload under ``HOME/uploads`` (refusing it past the size limit or with a non-video suffix)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in MEDIA_TYPES:
        raise UploadError(f"{upload.filename!r} is not a video file (expected one of {', '.join(sorted(MEDIA_TYPES))})")
    state.config.uploads_dir.mkdir(parents=True, exist_ok=True)
    path = state.config.uploads_dir / f"{uuid.uuid4().hex}{suffix}"
    size = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > state.config.max_upload_bytes:
                out.close()
                os.unlink(path)
                raise UploadError(f"the file is larger than {state.config.max_upload_bytes // (1024 * 1024)} MiB")
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise UploadError(f"{upload.filename!r} is empty")
    return path


def _score(state: WebState, values: dict[str, str], path: Path, filename: str) -> dict[str, Any]:
    """Checks the file is a video, then scores it with the run exactly as `curate predict` does."""
    from modeling import media
    from modeling.prediction import Predictor

    try:
        facts = media.probe(path)
    except (media.MediaError, ValueError, OSError) as exc:
        raise UploadError(f"{filename!r} is not a video we can read ({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})") from None
    if facts.width is None:
        raise UploadError(f"{filename!r} has no video stream")
    loaded, snapshot = _run(state, values["run"])
    new = _new_video(values)
    (answer,) = Predictor(loaded, state.config.features_dir, snapshot).predict([str(path)], new)
    if answer.error:
        raise UploadError(f"the run could not score {filename!r}: {answer.error}")
    given = [k for k in ("followers", "caption", "posted_at") if values.get(k, "").strip()]
    return {"run": values["run"], "target": loaded.info["target"], "task": loaded.task, "score": answer.score,
            "label": answer.label, "imputed": answer.imputed, "given": given, "file": filename,
            "facts": {"duration_s": facts.duration_s, "fps": facts.fps, "width": facts.width, "height": facts.height, "has_audio": facts.has_audio}}


def _run(state: WebState, name: str):
    """The run and its snapshot, loaded once per server (loading imports torch)."""
    from modeling.runs import load_run
    from modeling.snapshot import SnapshotError, open_snapshot

    key = ("run", name)
    if key not in state.cache:
        loaded = load_run(state.config.runs_dir, name)
        try:
            snapshot = open_snapshot(state.config.home, loaded.info["snapshot"]["ref"])
        except SnapshotError:
            snapshot = None
        state.cache[key] = (loaded, snapshot)
    return state.cache[key]


def _new_video(values: dict[str, str]):
    """What the form says beyond the file, as `curate predict`'s options (empty fields are imputed)."""
    import pandas as pd

    from modeling.prediction import NewVideo

    followers = values.get("followers", "").strip()
    if followers and not followers.isdigit():
        raise UploadError(f"followers must be a whole number, not {followers!r}")
    posted = values.get("posted_at", "").strip()
    try:
        when = pd.Timestamp(posted, tz="UTC") if posted and pd.Timestamp(posted).tzinfo is None else (pd.Timestamp(posted).tz_convert("UTC") if posted else None)
    except ValueError:
        raise UploadError(f"not a date/time: {posted!r} (e.g. 2024-06-01T18:00)") from None
    return NewVideo(followers=int(followers) if followers else None, posted_at=when, caption=values.get("caption", "").strip() or None)


ROUTES = [Route("/ask", ask, methods=["GET", "POST"])]
