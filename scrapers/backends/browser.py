"""What the browser-driven backends share: Debian's Chromium, its quiet flags, the site's paths, credentials."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from scrapers.source import REAL_SITE, BackendUnavailable, SourceSecrets, SourceStats

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: flags that keep Chromium from phoning home or doing work a crawl does not need (FACTS.md)
QUIET_FLAGS = (
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--blink-settings=imagesEnabled=false",
    "--mute-audio",
    # navigator.webdriver stays false, as in a person's browser (sites refuse automation by it)
    "--disable-blink-features=AutomationControlled",
)
#: media the crawl never needs the browser to load
BLOCKED_URLS = ("*.mp4", "*.webm", "*.m3u8", "*.jpg", "*.jpeg", "*.png", "*.webp", "*.gif", "*/media/*", "*video/tos/*")

FEED_PATH = "/api/recommend/item_list/"
RELATED_PATH = "/api/related/item_list/"
DETAIL_PATH = "/api/item/detail/"
USER_PATH = "/api/user/detail/"
POSTS_PATH = "/api/post/item_list/"
#: videos a profile asks per page of its list (the web app asks 35, the sandbox's page 30)
POSTS_PAGE = 30
#: the home page's feed scrolls inside this container, not the window; a sign-in modal may cover it
FEED_CONTAINER = "#column-list-container"
CLOSE_MODAL = '[data-e2e="modal-close-inner-button"]'
#: true once the feed container is scrolled near its end (the page then asks for more)
FEED_NEAR_END = ("(() => { const c = document.querySelector('#column-list-container');"
                 " return !c || c.scrollTop + c.clientHeight >= c.scrollHeight - 1000; })()")
#: wheel steps (pixels, at most how many) a person's scroll to the end of the loaded feed takes
WHEEL_STEP, WHEEL_STEPS = 2400, 60
#: true once the profile (which scrolls the window) is scrolled near its end
PROFILE_NEAR_END = "(() => window.innerHeight + window.scrollY >= document.body.scrollHeight - 600)()"
#: true for an empty document (the browser's rendering of an empty 200 body)
EMPTY_DOCUMENT = "(() => document.documentElement.outerHTML === '<html><head></head><body></body></html>')()"
#: longest wait for a challenge page to run its script and reload into the real page
CHALLENGE_WAIT_S = 15.0


def chromium_path() -> str:
    """Debian's Chromium, or BackendUnavailable saying how to install it."""
    return _program(CHROMIUM, "chromium", "apt-get install chromium (./run does)")


def chromedriver_path() -> str:
    """Debian's ChromeDriver, or BackendUnavailable saying how to install it."""
    return _program(CHROMEDRIVER, "chromedriver", "apt-get install chromium-driver (./run does)")


def _program(path: str, name: str, hint: str) -> str:
    if Path(path).exists():
        return path
    found = shutil.which(name)
    if found:
        return found
    raise BackendUnavailable(f"{name} not found at {path}: {hint}")


def video_page_url(site: str, video_id: str, handle: str | None) -> str:
    """A video's page; ``@_`` stands for an unknown handle, as the platform's own share links do."""
    return f"{site}/@{handle or '_'}/video/{video_id}"


def host_of(site: str) -> str:
    """The host name of a site URL (cookie domain)."""
    return urlsplit(site).hostname or ""


def cookie_pairs(secrets: SourceSecrets) -> list[tuple[str, str]]:
    """Cookies to set in a browser: ``CURATE_COOKIES`` (``a=1; b=2``) and the msToken."""
    pairs: list[tuple[str, str]] = []
    if secrets.cookies and not Path(secrets.cookies).is_file():
        for part in secrets.cookies.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                pairs.append((name, value))
    if secrets.ms_token:
        pairs.append(("msToken", secrets.ms_token))
    return pairs


def playwright_proxy(proxy: str | None) -> dict[str, str] | None:
    """Playwright's proxy settings from a URL with optional credentials."""
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    settings = {"server": f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")}
    if parts.username:
        settings["username"] = parts.username
    if parts.password:
        settings["password"] = parts.password
    return settings


def site_of(base_url: str | None) -> str:
    """The site a backend talks to."""
    return (base_url or REAL_SITE).rstrip("/")


class SiteClient:
    """What every backend keeps: the site it talks to (the real one unless a base URL is given), the
    secrets it may send, its request timeout and its counters."""

    #: where the session's traffic is recorded (``curate crawl --record-har``: a ``scrapers.har.HarLog``), if anywhere
    har = None

    def har_context_options(self) -> dict:
        """Browser-context options that make Playwright record the session into ``har``."""
        return self.har.playwright_options() if self.har is not None else {}

    def __init__(self, base_url: str | None = None, secrets: SourceSecrets | None = None, timeout: float = 30.0,
                 headed: bool = False) -> None:
        self.base_url = base_url
        self.site = site_of(base_url)
        self.secrets = secrets or SourceSecrets()
        self.timeout = timeout
        #: a visible browser (under Xvfb when the machine has no screen), for sites that refuse headless ones
        self.headed = headed
        self.stats = SourceStats()
