"""``curate doctor``: is this machine ready to crawl, and does the site answer each backend?

The set-up checks look at what a crawl needs — the client libraries, Chromium and
ChromeDriver (and whether their versions agree), ffmpeg and PyAV, the catalog URL,
the token, cookies, proxy and CA file the crawl would use (their presence and
form; a secret's value is never shown), and a writable data folder. Each gives one
:class:`Check`: ``ok``, ``warn`` (the crawl can run, maybe worse) or ``fail``, with
what to do. The live checks (:mod:`curate.doctor_live`) make one feed and one
related call per backend. Nothing here imports typer: the command is a thin wrapper.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from curate.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
#: the Python packages each backend needs (distribution names)
BACKEND_PACKAGES = {
    "tiktokapi": ("TikTokApi", "playwright"),
    "playwright": ("playwright",),
    "selenium": ("selenium",),
    "ytdlp": ("yt-dlp",),
}
BROWSER_BACKENDS = frozenset({"tiktokapi", "playwright", "selenium"})
#: free space below which the data folder gets a warning (media files add up)
LOW_DISK_BYTES = 2 * 1024**3
VERSION_TIMEOUT_S = 20


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: what was checked, ok/warn/fail, and what was found or what to do."""

    name: str
    status: str
    detail: str

    @property
    def line(self) -> str:
        """``name: status — detail``."""
        return f"{self.name}: {self.status} — {self.detail}"


@dataclass(frozen=True)
class Setup:
    """What the checks look at: the settings, the backends chosen, and the crawl's connection settings."""

    settings: Settings
    sources: tuple[str, ...]
    base_url: str | None = None
    ms_token: str | None = None
    cookies: str | None = None
    proxy: str | None = None
    ca_cert: str | None = None


def setup_checks(setup: Setup) -> list[Check]:
    """Every set-up check, in the order a new user would fix them."""
    checks = [*package_checks(setup.sources)]
    if BROWSER_BACKENDS & set(setup.sources):
        checks += browser_checks(need_driver="selenium" in setup.sources)
    checks += [ffmpeg_check(), pyav_check(), catalog_check(setup.settings.db_url), home_check(setup.settings.home)]
    checks += [token_check(setup.ms_token, setup.base_url), cookies_check(setup.cookies)]
    checks += [c for c in (proxy_check(setup.proxy), ca_check(setup.ca_cert)) if c is not None]
    return checks


# ---- programs and packages ----------------------------------------------------------------------


def package_checks(sources: Iterable[str]) -> list[Check]:
    """One line per Python package the chosen backends need, with its version."""
    wanted = dict.fromkeys(p for s in sources for p in BACKEND_PACKAGES.get(s, ()))
    return [_package(name) for name in wanted]


def _package(name: str) -> Check:
    try:
        return Check(f"package {name}", OK, metadata.version(name))
    except metadata.PackageNotFoundError:
        return Check(f"package {name}", FAIL, f"not installed: pip install {name} (./run installs the project with it)")


def browser_checks(need_driver: bool, chromium: str = "/usr/bin/chromium", driver: str = "/usr/bin/chromedriver") -> list[Check]:
    """Chromium's version, ChromeDriver's, and whether their major versions agree."""
    browser = program_version("chromium", chromium, "apt-get install -y chromium")
    checks = [browser]
    if need_driver:
        chromedriver = program_version("chromedriver", driver, "apt-get install -y chromium-driver")
        checks.append(chromedriver)
        majors = {_major(c.detail) for c in (browser, chromedriver) if c.status == OK}
        if len(majors) == 2:
            checks.append(Check("chromium vs chromedriver", FAIL, f"major versions differ ({' vs '.join(sorted(majors))}): "
                                "install both from the same source (apt-get install -y chromium chromium-driver)"))
    return checks


def program_version(name: str, path: str, hint: str, args: tuple[str, ...] = ("--version",)) -> Check:
    """``ok`` with the first line a program prints for its version, else ``fail`` with how to install it."""
    found = path if Path(path).exists() else shutil.which(name)
    if not found:
        return Check(name, FAIL, f"not found: {hint}")
    try:
        done = subprocess.run([found, *args], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check(name, FAIL, f"{found} does not run ({exc}): {hint}")
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    if done.returncode != 0 or not first:
        return Check(name, FAIL, f"{found} exited {done.returncode}: {hint}")
    return Check(name, OK, f"{first[0]} ({found})")


def _major(text: str) -> str:
    found = re.search(r"\b(\d+)\.\d+", text)
    return found.group(1) if found else text


def ffmpeg_check() -> Check:
    """ffmpeg: the sandbox makes its media with it (the crawl and ``curate probe`` do not need it)."""
    check = program_version("ffmpeg", "/usr/bin/ffmpeg", "apt-get install -y ffmpeg (needed by the sandbox's media, not by a crawl)",
                            args=("-version",))
    return check if check.status == OK else Check(check.name, WARN, check.detail)


def pyav_check() -> Check:
    """PyAV, which probes and checks downloaded media (it bundles its own FFmpeg)."""
    try:
        return Check("package av (PyAV)", OK, metadata.version("av"))
    except metadata.PackageNotFoundError:
        return Check("package av (PyAV)", FAIL, "not installed: pip install av (downloads are checked and probed with it)")


# ---- catalog and data folder --------------------------------------------------------------------


def catalog_check(db_url: str) -> Check:
    """Connects to the catalog once (no migration, nothing written)."""
    from core.errors import CurateError
    from db.engine import check_connection, create_catalog_engine

    try:
        engine = create_catalog_engine(db_url)
    except CurateError as exc:
        return Check("catalog", FAIL, f"{exc}: give --db or CURATE_DB_URL a database URL")
    shown = engine.url.render_as_string(hide_password=True)
    try:
        check_connection(engine)
    except CurateError as exc:
        return Check("catalog", FAIL, f"{exc} — start the server or fix --db / CURATE_DB_URL")
    finally:
        engine.dispose()
    return Check("catalog", OK, f"reachable at {shown}")


def home_check(home: Path) -> Check:
    """The data folder exists (or can be made), a file can be written in it, and it has room."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".doctor-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return Check("data folder", FAIL, f"{home} is not writable ({exc.strerror or exc}): give --home or CURATE_HOME a folder you own")
    free = shutil.disk_usage(home).free
    if free < LOW_DISK_BYTES:
        return Check("data folder", WARN, f"{home} is writable but has only {free / 1024**3:.1f} GB free (media files add up)")
    return Check("data folder", OK, f"{home} is writable, {free / 1024**3:.0f} GB free")


# ---- credentials and connection -----------------------------------------------------------------


def token_check(ms_token: str | None, base_url: str | None) -> Check:
    """Whether an msToken is set (its value is never shown)."""
    if ms_token:
        return Check("token CURATE_MS_TOKEN", OK, f"present ({len(ms_token)} characters; the value is never shown)")
    if base_url is not None:
        return Check("token CURATE_MS_TOKEN", OK, f"not set; not needed for {base_url}")
    return Check("token CURATE_MS_TOKEN", WARN, "not set: the real site hands a tokenless session fewer answers; export "
                 "CURATE_MS_TOKEN=<the msToken cookie of a www.tiktok.com tab in your browser>")


def cookies_check(cookies: str | None) -> Check:
    """CURATE_COOKIES: a Cookie header (``a=1; b=2``) or a Netscape cookies.txt; names counted, values never shown."""
    if not cookies:
        return Check("cookies CURATE_COOKIES", OK, "not set (optional)")
    path = Path(cookies)
    if path.is_file():
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError as exc:
            return Check("cookies CURATE_COOKIES", FAIL, f"{path} cannot be read ({exc.strerror or exc})")
        rows = [ln for ln in lines if ln.strip() and not ln.startswith("#") or ln.startswith("#HttpOnly_")]
        tiktok = sum("tiktok.com" in ln.split("\t", 1)[0] for ln in rows)
        status = OK if tiktok else WARN
        return Check("cookies CURATE_COOKIES", status, f"cookies file {path}: {len(rows)} cookies, {tiktok} for tiktok.com")
    pairs = [p for p in cookies.split(";") if "=" in p and p.split("=", 1)[0].strip()]
    if not pairs:
        return Check("cookies CURATE_COOKIES", FAIL, "neither a cookies.txt file nor NAME=VALUE pairs separated by ';'")
    return Check("cookies CURATE_COOKIES", OK, f"{len(pairs)} cookies as a header (values never shown)")


def proxy_check(proxy: str | None, connect: Callable[..., socket.socket] = socket.create_connection) -> Check | None:
    """The proxy answers a TCP connection (shown without its credentials)."""
    if not proxy:
        return None
    from scrapers.source import redact_proxy

    shown = redact_proxy(proxy)
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 1080 if parts.scheme.startswith("socks") else 8080)
    except ValueError:
        return Check("proxy", FAIL, f"{shown}: not a proxy URL (http://user:pass@host:port)")
    try:
        connect((parts.hostname or "", port), timeout=5).close()
    except OSError as exc:
        return Check("proxy", FAIL, f"{shown} does not accept connections ({exc.strerror or exc})")
    return Check("proxy", OK, f"{shown} accepts connections")


def ca_check(ca_cert: str | None) -> Check | None:
    """The extra CA file loads as PEM certificates."""
    if not ca_cert:
        return None
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        return Check("CA file CURATE_CA_CERT", FAIL, f"{ca_cert} does not load as PEM certificates ({exc})")
    subjects = [dict(x[0] for x in c.get("subject", ())).get("commonName", "?") for c in context.get_ca_certs()]
    return Check("CA file CURATE_CA_CERT", OK, f"{ca_cert}: trusted besides the system's ({', '.join(subjects[-3:]) or 'no CA'})")


def chosen_sources(value: str | None) -> tuple[str, ...]:
    """``--source a,b`` (or repeated) as a tuple; all four backends when none is given."""
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    return names or tuple(BACKEND_PACKAGES)


def failed(checks: Iterable[Check]) -> bool:
    """True when a check failed."""
    return any(c.status == FAIL for c in checks)


__all__ = ["Check", "Setup", "setup_checks", "failed", "chosen_sources", "OK", "WARN", "FAIL"]
