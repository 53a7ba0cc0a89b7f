"""A crawl in a child process, over the fake platform, for the kill -9 test: ``python -m tests.scrapers.crawl_child URL [RUN]``."""

from __future__ import annotations

import sys

from db.engine import create_catalog_engine
from db.migrate import ensure_schema
from scrapers.crawl import CrawlParams
from scrapers.politeness import Politeness
from scrapers.runs import crawl_run, open_run, start_run
from tests.scrapers.crawl_fakes import FakeSource

PARAMS = CrawlParams(seed=6, fanout=3, max_videos=60, random_seed=5)
POLITE = Politeness(rate=0, backoff=0.0, backoff_max=0.0)


def main(url: str, resume: str | None = None, delay: float = 0.0) -> int:
    engine = create_catalog_engine(url)
    ensure_schema(engine)
    record = open_run(engine, resume, {}) if resume else start_run(engine, "fake", None, PARAMS, {})
    print(record.id, flush=True)
    result = crawl_run(engine, record, FakeSource(delay=delay), POLITE)
    print(result.status, result.stop_reason, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None, float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))
