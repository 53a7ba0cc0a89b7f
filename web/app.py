"""The Starlette application: routes, the Jinja2 pages, and one error page for everything the user can act on.

``create_app(config)`` opens the catalog (migrated, as every ``curate`` command
does) and wires the pages of :mod:`web.catalog_pages`, :mod:`web.snapshot_pages`,
:mod:`web.run_pages`, :mod:`web.duplicate_pages` and :mod:`web.predict_pages`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from core.errors import CurateError
from web.config import WebConfig

TEMPLATES = Path(__file__).parent / "templates"
#: hex characters of an author key (the snapshots' length)
AUTHOR_KEY_CHARS = 16


@dataclass
class WebState:
    """What every page reads: the settings, the catalog engine, the templates and the author-key secret."""

    config: WebConfig
    engine: Engine
    templates: Jinja2Templates
    secret: str
    secret_is_catalogs: bool
    cache: dict[str, Any] = field(default_factory=dict)

    def author_key(self, author_id: str | None) -> str | None:
        """The pseudonym shown for an author: HMAC-SHA256 with the catalog's secret, as in snapshots."""
        if author_id is None:
            return None
        return hmac.new(self.secret.encode(), str(author_id).encode(), hashlib.sha256).hexdigest()[:AUTHOR_KEY_CHARS]

    def scrubbed(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows as shown: the author as a key, @mentions and the author's own handle out of caption, hashtags, sound."""
        import pandas as pd

        from db.snapshot_table import scrub_hashtags, scrub_music_titles, scrub_text

        if not rows:
            return rows
        handles = pd.Series([r.get("author_handle") for r in rows], dtype=object)
        column = lambda name: pd.Series([r.get(name) for r in rows], dtype=object)  # noqa: E731
        cleaned: dict[str, list] = {}
        if "caption" in rows[0]:
            cleaned["caption"] = scrub_text(column("caption"), handles).to_pylist()
        if "hashtags" in rows[0]:
            cleaned["hashtags"] = scrub_hashtags(column("hashtags"), handles).to_pylist()
        if "music_title" in rows[0]:
            cleaned["music_title"] = scrub_music_titles(column("music_title"), column("music_original"), handles).to_pylist()
        out = []
        for i, row in enumerate(rows):
            shown = {k: v for k, v in row.items() if k not in ("author_id", "author_handle")}
            shown.update({k: values[i] for k, values in cleaned.items()}, author_key=self.author_key(row.get("author_id")))
            out.append(shown)
        return out

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Renders a template with the common context."""
        context.setdefault("title", template.removesuffix(".html"))
        return self.templates.TemplateResponse(request, template, {"allow_writes": self.config.allow_writes, **context}, status_code=status_code)


def state_of(request: Request) -> WebState:
    """The app's state from a request."""
    return request.app.state.web


def _read_secret(engine: Engine) -> tuple[str, bool]:
    """The catalog's pseudonym secret, read only; a per-process one when the catalog has none yet (nothing written)."""
    from db.models import CatalogMeta

    table = CatalogMeta.__table__
    with engine.connect() as conn:
        value = conn.execute(sa.select(table.c.value).where(table.c.key == "pseudonym_secret")).scalar_one_or_none()
    return (value, True) if value else (secrets.token_hex(32), False)


def _open_engine(url: str) -> Engine:
    from db.engine import check_connection, create_catalog_engine
    from db.migrate import ensure_schema

    engine = create_catalog_engine(url)
    check_connection(engine)
    ensure_schema(engine)
    return engine


def _routes() -> list[Route]:
    from web import catalog_pages, duplicate_pages, predict_pages, run_pages, snapshot_pages

    return [*catalog_pages.ROUTES, *snapshot_pages.ROUTES, *run_pages.ROUTES, *duplicate_pages.ROUTES, *predict_pages.ROUTES]


async def _not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", None) or "not found"
    code = getattr(exc, "status_code", 404)
    return state_of(request).page(request, "error.html", status_code=code, title=f"{code}", message=detail)


async def _user_error(request: Request, exc: Exception) -> Response:
    return state_of(request).page(request, "error.html", status_code=400, title="cannot do that", message=str(exc))


def create_app(config: WebConfig) -> Starlette:
    """The application over ``config``'s data folder and catalog."""
    engine = _open_engine(config.db_url)
    secret, is_catalogs = _read_secret(engine)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["thousands"] = lambda n: "—" if n is None else f"{n:,}"
    app = Starlette(routes=_routes(), exception_handlers={HTTPException: _not_found, CurateError: _user_error})
    app.state.web = WebState(config, engine, templates, secret, is_catalogs)
    return app
