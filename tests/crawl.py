"""The crawl: every named actor signs in and follows every same-site link from their home page (GET only,
bounded). No page may fail (5xx), no link may be dead (4xx), and no page may show a canary client's identity to
someone who may not see it (tests/test_crawl.py).

Who may see what is denied by default. Each app declares what its own pages legitimately show, in an optional
``tests/<app>/crawl.py`` (found the way tests/access_matrix.py finds ``access_cases``):

- ``may_see(*, actor, user, canary, world) -> Iterable[str]``: the identity fields (``IDENTITY_FIELDS``) of
  ``canary`` that ``actor`` may see on some page: a counsellor their own clients' (tests/clients/crawl.py); a
  referral officer, once referrals exist, the fields a sharing consent lets a referral show. The union of every
  app's answer is allowed; anything else found on a page is a leak.
- ``objects(world) -> None``: records the app's pages need so that they show something (a referral of a canary
  to the partner), made with the app's services from ``world["canaries"]`` and ``world["actors"]``.

New pages need neither: the crawl follows the links it finds, starting from the home page and from every menu
link an app registers (casemgmt.features), so a new page is crawled as soon as something links to it. Text
responses (HTML, JSON, CSV) are searched; other files (PDFs: their text is compressed glyph runs) are checked
for their status only. FHIR files (application/fhir+json) are JSON, and searched too.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, reverse

from casemgmt import access, features

# The identity of a client, as far as a page can show it (dates are left out: a page is full of dates).
IDENTITY_FIELDS = ("given_name", "family_name", "other_names", "phone", "national_id", "uic", "mother_first_name",
                   "father_first_name", "village")

# Bounds: the crawl stops after MAX_PAGES pages per actor, MAX_DEPTH links away from the start, and visits at most
# PER_ROUTE URLs of one view without a query string (one page per record) and PER_QUERY with one (the sort, filter
# and page links of a list), which would otherwise fill the budget with the same page.
MAX_PAGES = 300
MAX_DEPTH = 8
PER_ROUTE = 8
PER_QUERY = 3

# Links the crawl does not follow: they sign out or switch the language (and static files are not pages). Every
# other link is followed with a GET, which changes no data here: what changes data is a POST (a form, an admin
# action), and a link to a POST-only view answers 405, which the crawl reports as a dead link.
SKIPPED_VIEWS = frozenset({"signout", "set_language", "admin:logout"})


@dataclass(frozen=True)
class Canary:
    """A synthetic client with distinctive identity values, and the forms each may take on a page."""

    key: str
    client: object  # clients.models.Client
    marks: dict[str, tuple[str, ...]]

    def found_in(self, text: str, fields: Iterable[str]) -> list[str]:
        """Which of ``fields`` show in ``text`` (case-insensitive)."""
        folded = text.casefold()
        return [name for name in fields if any(mark.casefold() in folded for mark in self.marks.get(name, ()))]


@dataclass
class Visit:
    url: str
    status: int
    found_on: str | None
    content_type: str = ""
    text: str = ""  # what the actor received: the body of a text response, the target of a redirect
    error: str = ""  # the exception behind a 5xx


@dataclass
class Crawl:
    visits: list[Visit] = field(default_factory=list)
    capped: Counter = field(default_factory=Counter)  # views whose bound (PER_ROUTE, PER_QUERY) left URLs out

    @property
    def urls(self) -> set[str]:
        return {v.url for v in self.visits}


def app_modules() -> list:
    """Every ``tests.<package>.crawl`` module."""
    import tests

    modules = []
    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                modules.append(importlib.import_module(f"tests.{info.name}.crawl"))
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{info.name}.crawl":
                    raise
    return modules


def allowed_fields(*, actor: str, user, canary: Canary, world: dict, modules=None) -> set[str]:
    """What every app allows ``actor`` to see of ``canary``: nothing unless one says so."""
    allowed: set[str] = set()
    for module in app_modules() if modules is None else modules:
        rule = getattr(module, "may_see", None)
        if rule is not None:
            allowed |= set(rule(actor=actor, user=user, canary=canary, world=world))
    return allowed


def start_urls(user) -> list[str]:
    """The home page and every menu link the user is shown (casemgmt.features)."""
    return [reverse("home"), *(reverse(link.url_name) for link in features.nav_links_for(user, access.role_of(user)))]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _same_site(url: str, base: str) -> str | None:
    """``url`` (found on ``base``) as a path with its query, if it is a page of this site to crawl."""
    parts = urlsplit(urljoin(base, url))
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    if any(parts.path.startswith(prefix) for prefix in (settings.STATIC_URL, settings.MEDIA_URL) if prefix != "/"):
        return None  # files, not pages (an unset MEDIA_URL reads "/")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _route(url: str) -> tuple | None:
    """(view name, whether a query follows) of a path; None for a link the crawl does not follow."""
    parts = urlsplit(url)
    try:
        view_name = resolve(parts.path).view_name
    except Resolver404:
        view_name = None  # a dead link: visited, so that its 404 is seen
    if view_name in SKIPPED_VIEWS:
        return None
    return view_name, bool(parse_qsl(parts.query, keep_blank_values=True))


def crawl(browser, *, start: Iterable[str], max_pages: int = MAX_PAGES, max_depth: int = MAX_DEPTH,
          per_route: int = PER_ROUTE, per_query: int = PER_QUERY) -> Crawl:
    """Breadth first from ``start``, with Django's test client ``browser`` (signed in): GET only, links only."""
    browser.raise_request_exception = False  # a failing page is a 500 in the report, not the end of the crawl
    result = Crawl()
    queue = deque((url, 0, None) for url in start)
    seen: set[str] = set()
    routes: Counter = Counter()
    while queue and len(result.visits) < max_pages:
        url, depth, found_on = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        route = _route(url)
        if route is None:
            continue
        if routes[route] >= (per_query if route[1] else per_route):
            result.capped[route[0]] += 1
            continue
        routes[route] += 1
        response = browser.get(url)
        visit = Visit(url=url, status=response.status_code, found_on=found_on,
                      content_type=response.get("Content-Type", ""))
        if getattr(response, "exc_info", None):
            visit.error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
        if response.has_header("Location"):
            visit.text = response["Location"]
            target = _same_site(response["Location"], url)
            if target is not None:
                queue.append((target, depth, url))  # the same page, reached another way
        elif visit.content_type.startswith(("text/", "application/json", "application/fhir+json")):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            visit.text = body.decode(response.charset or "utf-8", errors="replace")
            if visit.content_type.startswith("text/html") and depth < max_depth:
                for href in links_in(visit.text):
                    target = _same_site(href, url)
                    if target is not None and target not in seen:
                        queue.append((target, depth + 1, url))
        result.visits.append(visit)
    return result


def leaks(result: Crawl, *, canaries: Iterable[Canary], allowed) -> list[str]:
    """Each page that shows a field of a canary that ``allowed(canary)`` (a set of field names) leaves out."""
    found = []
    forbidden = {c.key: (c, [f for f in IDENTITY_FIELDS if f not in allowed(c)]) for c in canaries}
    for visit in result.visits:
        for key, (canary, fields) in forbidden.items():
            shown = canary.found_in(visit.text, fields)
            if shown:
                found.append(f"{visit.url} (linked from {visit.found_on}) shows canary {key}'s {', '.join(shown)}")
    return found
