"""A crawl in a child process, over the fake platform, for the kill -9 test:
``python -m tests.scrapers.crawl_child URL [RUN|-] [PAUSE_AT_STEP]``.

With ``PAUSE_AT_STEP`` the child stores its first steps, prints ``stored``, and waits on its standard input
(which the test never answers): it is killed mid-crawl at a point the test knows, without racing a timer."""

from __future__ import annotations

import sys

from db.engine import create_catalog_engine
from db.migrate import ensure_schema
from scrapers.crawl import CrawlParams, Crawler
from scrapers.politeness import Politeness
from scrapers.runs import crawl_run, open_run, start_run
from tests.scrapers.crawl_fakes import FakeSource

PARAMS = CrawlParams(seed=6, fanout=3, max_videos=60, random_seed=5)
POLITE = Politeness(rate=0, backoff=0.0, backoff_max=0.0)


def pause_at(step: int):
    """An ``on_step`` hook that, at ``step``, writes what is queued, says so, and waits for ever."""

    def hook(crawler: Crawler) -> None:
        if crawler.progress.steps == step:
            crawler.sink.flush()
            crawler.sink.wait_written()
            print("stored", flush=True)
            sys.stdin.readline()

    return hook


def main(url: str, resume: str | None = None, pause: int = 0) -> int:
    engine = create_catalog_engine(url)
    ensure_schema(engine)
    record = open_run(engine, resume, {}) if resume else start_run(engine, "fake", None, PARAMS, {})
    print(record.id, flush=True)
    result = crawl_run(engine, record, FakeSource(), POLITE, on_step=pause_at(pause) if pause else None)
    print(result.status, result.stop_reason, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None, int(sys.argv[3]) if len(sys.argv) > 3 else 0))
