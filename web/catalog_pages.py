"""The catalog's pages: counts and live figures, the videos table with facets, one video, its media, overrides."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from web import files
from web.app import WebState, state_of
from web.queries import FACETS, VideoQuery, list_videos, snapshot_json, snapshot_labels


def _signature(state: WebState) -> tuple:
    """A cheap fingerprint of the catalog's contents: cached figures are redrawn when it changes."""
    from db.models import MetricObservation, Video

    v, o = Video.__table__, MetricObservation.__table__
    with state.engine.connect() as conn:
        row = conn.execute(sa.select(sa.func.count(), sa.func.max(v.c.updated_at), sa.func.max(v.c.filtered_at),
                                     sa.func.max(v.c.probed_at), sa.func.count(v.c.media_path))).one()
        obs = conn.execute(sa.select(sa.func.count(), sa.func.max(o.c.id))).one()
    return (*map(str, row), *map(str, obs))


def _report_table(state: WebState) -> tuple:
    from web.figures import catalog_table

    key = _signature(state)
    cached = state.cache.get("report")
    if cached is None or cached[0] != key:
        cached = (key, catalog_table(state.engine))
        state.cache["report"] = cached
    return cached[1]


async def catalog(request: Request) -> Response:
    """Counts of everything, rejections per reason, and the report's figures (drawn from the catalog now)."""
    from db.catalog import catalog_status
    from web.figures import FIGURES

    state = state_of(request)
    status = await asyncio.to_thread(catalog_status, state.engine)
    verdicts = await asyncio.to_thread(list_videos, state.engine, VideoQuery())
    return state.page(request, "catalog.html", title="catalog", status=status, facets=verdicts["facets"], figures=FIGURES,
                      home=str(state.config.home), dialect=state.engine.dialect.name)


async def figure(request: Request) -> Response:
    """One live figure as PNG."""
    from web.figures import FIGURES, draw

    name = request.path_params["name"]
    if name not in FIGURES:
        raise HTTPException(404, f"no figure {name!r}")
    state = state_of(request)

    def paint() -> bytes:
        return draw(name, *_report_table(state))

    return Response(await asyncio.to_thread(paint), media_type="image/png", headers={"cache-control": "no-store"})


def newest_snapshot(state: WebState):
    """The most recently created snapshot version (None without any); re-read only when a snapshot folder changed."""
    import os

    from db.snapshots import list_snapshots, snapshots_root

    root = snapshots_root(state.config.home)
    folders = [root, *(p for p in root.iterdir() if p.is_dir())] if root.is_dir() else []
    key = ("newest", tuple((str(p), os.stat(p).st_mtime_ns) for p in folders))
    if state.cache.get("newest", (None,))[0] != key:
        newest = max(list_snapshots(state.config.home), key=lambda s: s.manifest.get("created_at", ""), default=None)
        state.cache["newest"] = (key, newest)
    return state.cache["newest"][1]


def snapshot_rows(state: WebState, ref: str | None) -> tuple[str | None, tuple[str, dict] | None]:
    """(the chosen snapshot's ref, (its rows as the facets' JSON, video → (split, label))) — the newest by default."""
    from db.snapshots import SnapshotError, resolve_snapshot

    try:
        snapshot = resolve_snapshot(state.config.home, None, ref) if ref else newest_snapshot(state)
    except SnapshotError:
        raise HTTPException(404, f"no snapshot {ref!r}") from None
    if snapshot is None:
        return None, None
    key = ("rows", snapshot.ref, snapshot.fingerprint)
    if key not in state.cache:
        labels = snapshot_labels(snapshot)
        state.cache[key] = (snapshot_json(labels), labels)
    return snapshot.ref, state.cache[key]


async def videos(request: Request) -> Response:
    """The videos table: facets (counted in SQL), a search over captions and hashtags, 50 rows a page."""
    state = state_of(request)
    params = dict(request.query_params)
    ref, rows = snapshot_rows(state, params.get("snapshot"))
    query = VideoQuery.from_params(params, rows[0] if rows else None)
    found = await asyncio.to_thread(list_videos, state.engine, query, rows[1] if rows else None)
    found["rows"] = state.scrubbed(found["rows"])
    return state.page(request, "videos.html", title="videos", found=found, query=query, params=params, facet_names=FACETS,
                      snapshot_ref=ref, link=lambda **change: _link(params, change))


def _link(params: dict[str, str], change: dict[str, Any]) -> str:
    """The videos URL with some parameters changed (None removes one); a filter change goes back to page 1."""
    from urllib.parse import urlencode

    merged = {**params, **{k: v for k, v in change.items()}}
    if "page" not in change:
        merged.pop("page", None)
    return "/videos?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


async def video(request: Request) -> Response:
    """One video: player, observations over time, probe facts, verdict and reasons, labels, where the crawl found it."""
    from web.video_data import video_details

    state = state_of(request)
    video_id = request.path_params["video_id"]
    ref, _ = snapshot_rows(state, None)
    details = await asyncio.to_thread(video_details, state, video_id, ref)
    if details is None:
        raise HTTPException(404, f"no video {video_id!r} in the catalog")
    return state.page(request, "video.html", title=f"video {video_id}", **details)


async def media(request: Request) -> Response:
    """The video's media file, with HTTP range requests (seeking); only files inside ``HOME/media``."""
    from db.models import Video

    state = state_of(request)
    v = Video.__table__
    with state.engine.connect() as conn:
        path = conn.execute(sa.select(v.c.media_path).where(v.c.id == request.path_params["video_id"])).scalar_one_or_none()
    try:
        served = files.media_file(state.config.home, path)
    except files.NotServed:
        raise HTTPException(404, "no media file for this video") from None
    return FileResponse(served, media_type=files.media_type(served))


async def override(request: Request) -> Response:
    """Sets a verdict by hand (only with ``--allow-writes``), recorded with who and when."""
    from db.overrides import record_override

    state = state_of(request)
    if not state.config.allow_writes:
        raise HTTPException(403, "this server is read-only: start it with `curate serve --allow-writes` to override verdicts")
    form = await request.form()
    video_id = request.path_params["video_id"]
    await asyncio.to_thread(record_override, state.engine, video_id, str(form.get("verdict", "")),
                            str(form.get("made_by", "")), str(form.get("note", "")))
    state.cache.pop("report", None)
    return RedirectResponse(f"/videos/{video_id}", status_code=303)


ROUTES = [
    Route("/", catalog),
    Route("/figures/{name}.png", figure),
    Route("/videos", videos),
    Route("/videos/{video_id}", video),
    Route("/videos/{video_id}/media", media),
    Route("/videos/{video_id}/verdict", override, methods=["POST"]),
]
