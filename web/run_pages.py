"""The training runs' pages: the list, one run's card, metrics and plots (its PNG files, nothing else of it)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from web import files
from web.app import state_of


def list_runs(runs_dir: Path) -> list[dict]:
    """Every run folder with a ``run.json`` and ``metrics.json``, newest first: name, target, snapshot, test AUC."""
    found = []
    for folder in sorted(runs_dir.glob("*")) if runs_dir.is_dir() else []:
        if folder.name.startswith(".") or not (folder / "run.json").is_file():
            continue
        info = json.loads((folder / "run.json").read_text())
        found.append({"name": folder.name, "target": info.get("target"), "task": info.get("task"),
                      "snapshot": info.get("snapshot", {}).get("ref"), "created_at": info.get("created_at"),
                      "features": ", ".join(info.get("features", {}).get("requested", []))})
    return sorted(found, key=lambda r: r["created_at"] or "", reverse=True)


def _run_folder(request: Request) -> Path:
    name = request.path_params["run"]
    runs = {r["name"] for r in list_runs(state_of(request).config.runs_dir)}
    if name not in runs:
        raise HTTPException(404, f"no run named {name!r}")
    return state_of(request).config.runs_dir / name


async def runs(request: Request) -> Response:
    """The runs in ``HOME/runs``."""
    state = state_of(request)
    return state.page(request, "runs.html", title="runs", runs=list_runs(state.config.runs_dir))


async def run(request: Request) -> Response:
    """One run: the metrics table, its plots and its model card."""
    from markdown_it import MarkdownIt

    from modeling.card import metrics_rows

    state = state_of(request)
    folder = _run_folder(request)
    metrics = json.loads((folder / "metrics.json").read_text())
    names, rows = metrics_rows(metrics)
    card = (folder / "MODEL_CARD.md").read_text() if (folder / "MODEL_CARD.md").is_file() else ""
    card_html = MarkdownIt("commonmark", {"html": False}).enable("table").render(card)
    plots = sorted(p.name for p in folder.glob("*.png"))
    return state.page(request, "run.html", title=f"run {folder.name}", name=folder.name, models=names, rows=rows,
                      metrics=metrics, plots=plots, card_html=card_html)


async def run_figure(request: Request) -> Response:
    """A PNG of the run."""
    state = state_of(request)
    try:
        path = files.run_figure(state.config.runs_dir, request.path_params["run"], request.path_params["name"])
    except files.NotServed:
        raise HTTPException(404, "no such figure") from None
    return FileResponse(path, media_type="image/png")


ROUTES = [
    Route("/runs", runs),
    Route("/runs/{run}", run),
    Route("/runs/{run}/{name}", run_figure),
]
