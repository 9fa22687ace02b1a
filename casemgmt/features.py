"""What a feature app contributes to the platform, registered from its ``AppConfig.ready`` (casemgmt never
imports a feature app; docs/adding-a-feature.md):

- its URLs, mounted under a prefix, with the access policy rows that its ``urls`` module declares
  (``access_policy``: URL name -> ``access.Rule``), registered as ``namespace:name``;
- links in the main menu, each shown to the roles its URL's policy row allows (and, optionally, only where a
  condition on the request holds);
- home-page panels (``casemgmt.home.register_home_panel``) and audit sentences (see casemgmt.audit_texts).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import include, path

from casemgmt import access

_url_modules: list[tuple[str, str]] = []


@dataclass(frozen=True)
class NavLink:
    url_name: str
    label: str
    # Shown only when this holds for the user's organisation (a prison unit's releases); the policy row decides
    # which roles see it at all.
    condition: Callable | None = None


_nav_links: list[NavLink] = []


def register_urls(*, prefix: str, module: str) -> None:
    """Mount ``module`` (which sets ``app_name`` and ``access_policy``) under ``prefix``, and register its
    policy rows. Registering the same module twice is harmless; two modules for one namespace are refused."""
    if (prefix, module) in _url_modules:
        return
    urls = importlib.import_module(module)
    access.register_policy(urls.app_name, urls.access_policy)
    _url_modules.append((prefix, module))


def url_patterns() -> list:
    return [path(prefix, include(module)) for prefix, module in _url_modules]


def register_nav_links(*links: NavLink) -> None:
    for link in links:
        if link not in _nav_links:
            _nav_links.append(link)


def nav_links_for(user, role: str) -> list[NavLink]:
    organisation = access.organisation_of(user)
    links = []
    for link in _nav_links:
        rule = access.rule_for(link.url_name)
        if rule is not None and rule.allows(role) and (link.condition is None or link.condition(organisation)):
            links.append(link)
    return links
