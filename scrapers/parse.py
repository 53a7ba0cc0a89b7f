"""The one place that turns platform payloads into records; every source and the importer use it.

- :func:`parse_item` — one item of any shape (web ``itemStruct``, tiktok-scraper row, yt-dlp info);
- :func:`parse_feed` — a feed response ``{itemList, hasMore, cursor, statusCode}`` → :class:`FeedPage`;
- :func:`parse_video_page` / :func:`read_video_page` — a video page's embedded item and statusCode;
- :func:`iter_records` — a whole file, streamed, record by record (:func:`detect_format` names its format).

Only the id is mandatory (digits); a bad record raises :class:`core.errors.ParseError`
whose ``reason`` is a short tag the importer and the crawl count.
"""

from __future__ import annotations

from scrapers.payloads.files import FORMATS, FileFormat, detect_format, is_feed, iter_records, iter_table_batches, sniff
from scrapers.payloads.feeds import FeedPage, load_json, parse_feed, parse_items
from scrapers.payloads.items import ITEM, ITEM_SHAPES, TIKTOK_SCRAPER, YTDLP, hashtags, item_shape, parse_item
from scrapers.payloads.pages import PageResult, PageUnavailable, parse_video_page, read_video_page, unavailable_reason
from scrapers.payloads.cells import CellOptions
from scrapers.payloads.columns import ALIASES, ColumnMap, ColumnMapping
from scrapers.payloads.profiles import UserPage, parse_user_page, read_user_page, user_record
from scrapers.payloads.tables import TableOptions, is_table_row, table_columns

__all__ = [
    "ALIASES",
    "CellOptions",
    "ColumnMap",
    "ColumnMapping",
    "TableOptions",
    "UserPage",
    "is_table_row",
    "parse_user_page",
    "read_user_page",
    "table_columns",
    "user_record",
    "ITEM",
    "ITEM_SHAPES",
    "TIKTOK_SCRAPER",
    "YTDLP",
    "FORMATS",
    "FeedPage",
    "FileFormat",
    "PageResult",
    "PageUnavailable",
    "detect_format",
    "hashtags",
    "is_feed",
    "iter_records",
    "iter_table_batches",
    "item_shape",
    "load_json",
    "parse_feed",
    "parse_item",
    "parse_items",
    "parse_video_page",
    "read_video_page",
    "sniff",
    "unavailable_reason",
]
