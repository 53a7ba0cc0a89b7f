"""The registry of fault kinds: each one's name (as ``--faults`` spells it), where it can strike, what the
site sends, and the public report it copies. Other modules (the site, ``curate doctor``, benchmarks) refer
to kinds by these names only.

Endpoint classes: ``list`` (the feed, an account's posts and details), ``item`` (related lists, item
detail), ``page`` (video pages), ``profile`` (account pages), ``home`` (the home page), ``media``.
Families: ``transient`` (a retry may succeed), ``soft`` (a 200-level refusal dressed as success; often
clears), ``blocking`` (the session must verify or wait), ``item`` (this one video answers differently),
``browser`` (a real browser passes, a plain HTTP client does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LIST, ITEM, PAGE, PROFILE, HOME, MEDIA = "list", "item", "page", "profile", "home", "media"
API = frozenset({LIST, ITEM})
PAGES = frozenset({PAGE, PROFILE})
ALL_BUT_MEDIA = frozenset({LIST, ITEM, PAGE, PROFILE})


@dataclass(frozen=True)
class FaultKind:
    """One way the site fails: name, endpoint classes, family, what it sends, and its public source."""

    name: str
    classes: frozenset[str]
    family: str
    sends: str
    source: str


KINDS: tuple[FaultKind, ...] = (
    FaultKind("429", ALL_BUT_MEDIA | {MEDIA}, "transient", "HTTP 429 with `Retry-After`",
              "yt-dlp/yt-dlp (TikTok 429s, e.g. chelaxian/tg-ytdlp-bot#258); zerodytrash/TikTok-Live-Connector#97"),
    FaultKind("5xx", ALL_BUT_MEDIA | {MEDIA}, "transient", "HTTP 500/502/503/504", "any web service"),
    FaultKind("captcha", ALL_BUT_MEDIA, "blocking", "`statusCode` 10000 with the verify fields (a page: the verify page)",
              "davidteather/TikTok-Api#403 (10000: captcha), #388"),
    FaultKind("empty", ALL_BUT_MEDIA | {MEDIA}, "soft", "an empty 200 body",
              "davidteather/TikTok-Api#1024, #1031; carcabot/tiktok-signature#211, #236"),
    FaultKind("ipblock", ALL_BUT_MEDIA, "blocking", "`statusCode` 10204",
              "davidteather/TikTok-Api#148; yt-dlp/yt-dlp#11538, #11308"),
    FaultKind("private", frozenset({ITEM, PAGE}), "item", "`statusCode` 10216 for the asked video",
              "yt-dlp/yt-dlp#10574 (10216/10222 read as private)"),
    FaultKind("malformed", ALL_BUT_MEDIA, "transient", "JSON cut short", "any web service"),
    FaultKind("slow", ALL_BUT_MEDIA | {MEDIA}, "transient", "the answer after a delay", "any web service"),
    FaultKind("drop", ALL_BUT_MEDIA | {MEDIA}, "transient", "the connection closed without an answer", "any web service"),
    FaultKind("truncated", frozenset({MEDIA}), "transient", "a media file cut short", "yt-dlp/yt-dlp#10346"),
    FaultKind("verify", API, "blocking",
              'the verify JSON `{"code":"10000","type":"verify","subtype":"slide",…}` without `statusCode`',
              "carcabot/tiktok-signature#86; davidteather/TikTok-Api#1047"),
    FaultKind("verify_html", API, "blocking", "an HTML verify page (`tiktok-verify-page`) where JSON belongs",
              "davidteather/TikTok-Api#407"),
    FaultKind("status0", API, "soft", '`{"statusCode":0}` with no `itemList` (or `itemInfo`)',
              "carcabot/tiktok-signature#159; EmilioBarradas/tiktok-app-api#14"),
    FaultKind("status_code0", API, "soft", '`{"status_code":0}` with no `itemList` (or `itemInfo`)',
              "carcabot/tiktok-signature#159"),
    FaultKind("unsigned", API, "soft",
              "an empty 200 to a call without the page SDK's parameters (X-Gnarly …); always on in --strict",
              "carcabot/tiktok-signature#236; justscrapeme/tiktok-web-reverse-engineering#5, #8"),
    FaultKind("challenge", PAGES | {HOME}, "browser",
              'a JS proof-of-work page ("Please wait…") that sets a cookie and reloads',
              "yt-dlp/yt-dlp#15418, #17393"),
    FaultKind("overlay", frozenset({PAGE, HOME}), "blocking",
              "the page with its data and a captcha over it; the session's API calls get the verify JSON",
              "seleniumbase/SeleniumBase#4214; gbiz123/tiktok-captcha-solver#27"),
    FaultKind("repeat", frozenset({LIST}), "soft", "the feed answering the same page again and again (sticky per session)",
              "davidteather/TikTok-Api#333, #665, #1003"),
    FaultKind("10201", frozenset({ITEM, PAGE}), "item", "`statusCode` 10201 (invalid entity) for the asked video",
              "davidteather/TikTok-Api#403"),
    FaultKind("10222", frozenset({ITEM, PAGE}), "item", "`statusCode` 10222 (private account) for the asked video",
              "yt-dlp/yt-dlp#10574"),
    FaultKind("403", ALL_BUT_MEDIA, "blocking", "HTTP 403", "yt-dlp/yt-dlp#17403, #9789"),
)
BY_NAME: Mapping[str, FaultKind] = {k.name: k for k in KINDS}
FAULT_KINDS = tuple(BY_NAME)
TRANSIENT = frozenset(k.name for k in KINDS if k.family == "transient")
SOFT = frozenset(k.name for k in KINDS if k.family == "soft")
BLOCKING = frozenset(k.name for k in KINDS if k.family == "blocking") | {"empty"}
#: which kinds can hit which class of endpoint
APPLICABLE = {cls: frozenset(k.name for k in KINDS if cls in k.classes) for cls in (LIST, ITEM, PAGE, PROFILE, HOME, MEDIA)}

#: named mixes for ``--faults NAME``; ``realistic`` leans on the 200-level soft blocks, as the real site does
PROFILES: Mapping[str, Mapping[str, float]] = {
    "realistic": {
        "status0": 0.03, "status_code0": 0.01, "empty": 0.02, "repeat": 0.01, "challenge": 0.02,
        "429": 0.012, "5xx": 0.004, "drop": 0.004, "malformed": 0.004, "slow": 0.004,
        "private": 0.005, "10201": 0.003, "10222": 0.002, "ipblock": 0.002,
        "verify": 0.002, "verify_html": 0.001, "captcha": 0.001, "overlay": 0.002, "403": 0.001,
    },
}


def markdown_table() -> str:
    """The registry as docs/sandbox.md shows it."""
    rows = ["| kind | family | where | the site sends | public source |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| `{k.name}` | {k.family} | {', '.join(sorted(k.classes))} | {k.sends} | {k.source} |" for k in KINDS]
    return "\n".join(rows)
