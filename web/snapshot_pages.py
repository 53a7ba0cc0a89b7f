"""The snapshots' pages: the list, one version's manifest and rows (author keys only), verify, and a diff of two."""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.app import state_of

#: the columns of a snapshot's rows shown on its page (never a raw author id or handle: the table has none)
PREVIEW_COLUMNS = ("video_id", "author_key", "split", "provenance", "plays", "likes", "caption", "hashtags", "category", "er", "viral_er")
PREVIEW_ROWS = 25


def _resolve(request: Request, ref: str):
    from db.snapshots import SnapshotError, resolve_snapshot

    try:
        return resolve_snapshot(state_of(request).config.home, None, ref)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None


async def snapshots(request: Request) -> Response:
    """Every version, newest first, with a form to diff two."""
    from db.snapshots import list_snapshots

    state = state_of(request)
    found = sorted(list_snapshots(state.config.home), key=lambda s: (s.name, s.version), reverse=True)
    return state.page(request, "snapshots.html", title="snapshots", snapshots=found)


async def snapshot(request: Request) -> Response:
    """One version: counts, labels, overrides, the manifest, and its first rows."""
    state = state_of(request)
    snap = _resolve(request, request.path_params["ref"])
    frame = snap.frame([c for c in PREVIEW_COLUMNS if c in snap.column_names()]).head(PREVIEW_ROWS)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    manifest = json.dumps(snap.manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return state.page(request, "snapshot.html", title=snap.ref, snap=snap, rows=rows, columns=list(frame.columns),
                      manifest=manifest, overrides=snap.manifest.get("filter", {}).get("overrides", []))


async def verify(request: Request) -> Response:
    """Re-hashes every file of the version against its manifest and the catalog's record."""
    from db.snapshots import verify_snapshot

    state = state_of(request)
    snap = _resolve(request, request.path_params["ref"])
    report = await asyncio.to_thread(verify_snapshot, snap, state.engine)
    return state.page(request, "verify.html", title=f"verify {snap.ref}", snap=snap, report=report)


async def diff(request: Request) -> Response:
    """What changed from version ``a`` to ``b``: videos added, removed, changed, and per column."""
    from db.snapshots import diff_snapshots

    state = state_of(request)
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    if not a or not b:
        raise HTTPException(400, "choose two snapshot versions to compare (a and b)")
    left, right = _resolve(request, a), _resolve(request, b)
    result = await asyncio.to_thread(diff_snapshots, left, right)
    return state.page(request, "diff.html", title=f"{left.ref} → {right.ref}", diff=result.summary(sample=20))


ROUTES = [
    Route("/snapshots", snapshots),
    Route("/snapshots/diff", diff),
    Route("/snapshots/{ref}", snapshot),
    Route("/snapshots/{ref}/verify", verify),
]
