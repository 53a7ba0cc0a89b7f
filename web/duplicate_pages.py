"""The near-duplicates page: each group of reposts side by side, with what ties it and which video the rule keeps."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.app import WebState, state_of

MAX_GROUPS = 100


def duplicate_groups(state: WebState, distance: float, kinds: list[str], keep: str) -> dict[str, Any]:
    """Groups (largest first) of the catalog's videos, each member with its facts and whether it is kept."""
    from curation.duplicates import METHOD, group_duplicates, keepers
    from db.fingerprints import fingerprint_counts, load_duplicate_frame

    frame = load_duplicate_frame(state.engine, METHOD)
    groups = group_duplicates(frame, distance, kinds)
    facts = frame.set_index(frame["video_id"].astype(str))
    kept = keepers(groups, facts[["plays", "create_time"]], keep, facts["verdict"].eq("rejected")) if len(groups) else {}
    facts = facts.astype(object).where(facts.notna(), None)
    out = []
    for group, members in groups.groupby("group", sort=False):
        cards = []
        for _, m in members.iterrows():
            f = facts.loc[m["video_id"]]
            cards.append({"video_id": m["video_id"], "kinds": m["kinds"], "kept": kept[group] == m["video_id"],
                          "sha": (f["media_sha256"] or "")[:12], "music": f["music_id"],
                          "plays": None if f["plays"] is None else int(f["plays"]), "verdict": f["verdict"],
                          "has_media": f["media_path"] is not None, "hashed": isinstance(f["frame_hashes"], list)})
        out.append({"group": group, "members": cards, "kinds": sorted({k for c in cards for k in c["kinds"]})})
    out.sort(key=lambda g: (-len(g["members"]), g["group"]))
    return {"groups": out[:MAX_GROUPS], "total_groups": len(out), "videos": len(groups),
            "counts": fingerprint_counts(state.engine, METHOD), "catalog_videos": len(frame)}


async def duplicates(request: Request) -> Response:
    """``/duplicates?distance=10&by=media,frames,sound&keep=most_plays``."""
    from core.errors import ConfigError
    from curation.duplicates import KEEP_RULES, KINDS

    state = state_of(request)
    params = request.query_params
    try:
        distance = float(params.get("distance", "10"))
    except ValueError:
        raise ConfigError(f"distance must be a number of bits (0–64), not {params.get('distance')!r}") from None
    kinds = [k for k in params.getlist("by") if k in KINDS] or ["media", "frames"]
    keep = params.get("keep", "most_plays")
    if keep not in KEEP_RULES or not 0 <= distance <= 64:
        raise ConfigError(f"keep must be one of {', '.join(KEEP_RULES)} and distance between 0 and 64")
    found = await asyncio.to_thread(duplicate_groups, state, distance, kinds, keep)
    return state.page(request, "duplicates.html", title="near-duplicates", found=found, distance=distance, kinds=kinds,
                      keep=keep, all_kinds=KINDS, keep_rules=KEEP_RULES)


ROUTES = [Route("/duplicates", duplicates)]
