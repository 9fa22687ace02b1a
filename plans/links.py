"""Links shown beside a reintegration milestone: the clean place where referrals plug in.

Plans never import the app that provides them. A later ``referrals`` app (whose link model lives there and may
import ``plans``) registers, from its ``AppConfig.ready``::

    from plans.links import MilestoneLink, register_milestone_link_provider

    def referral_links(*, user, milestones) -> dict:
        # one query for all the milestones, scoped to ``user``
        return {milestone_id: [MilestoneLink(label=..., url=...)], ...}

    register_milestone_link_provider(referral_links)

A provider gets the milestones of one page (already scoped: the viewer may see their client) and answers with the
links of each, by milestone id, in a constant number of queries; a milestone it has nothing for is left out. The
reintegration plan page shows what every provider returns under each milestone; today no provider is
registered, so nothing is shown. Labels must not identify the client (no name): they are shown in lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MilestoneLink:
    label: str
    url: str


_providers: list[Callable] = []


def register_milestone_link_provider(provider: Callable) -> Callable:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_milestone_link_provider(provider: Callable) -> None:
    if provider in _providers:
        _providers.remove(provider)


def milestone_links(*, user, milestones: Iterable) -> dict:
    """Every provider's links for these milestones: milestone id -> list of ``MilestoneLink``."""
    milestones = list(milestones)
    found: dict = {}
    if not milestones:
        return found
    for provider in _providers:
        for milestone_id, links in (provider(user=user, milestones=milestones) or {}).items():
            found.setdefault(milestone_id, []).extend(links)
    return found
