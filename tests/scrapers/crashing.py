"""A download worker that kills its own process on one video, as a crash inside native code would (picklable)."""

from __future__ import annotations

import os

from scrapers.fetcher import MediaDownloader

#: the video whose download kills the worker process
VICTIM = "7003"


class CrashingDownloader(MediaDownloader):
    """Downloads as usual, except that VICTIM ends the process mid-job."""

    def fetch(self, job):
        if job.video_id == VICTIM:
            os._exit(9)
        return super().fetch(job)
