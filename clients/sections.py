"""Sections that feature apps add to a client's case file (clients never imports them; docs/adding-a-feature.md).

An app registers ``section(*, user, client) -> dict | None`` from its ``AppConfig.ready``::

    register_case_file_section(counselling_section, order=40)

The dict names the ``template`` the client page includes and its context (and, for the case summary PDF,
``pdf_template``: the same content in print form, or absent when the section is not printed). Returning None
leaves the section out (a role that may not see it, nothing to show). Sections must read through their app's
selectors, scoped to ``user``, with a constant number of queries whatever the size of the client's history.
"""

from __future__ import annotations

from collections.abc import Callable

_sections: list[tuple[int, Callable]] = []


def register_case_file_section(section: Callable, *, order: int = 100) -> Callable:
    if all(existing is not section for _order, existing in _sections):
        _sections.append((order, section))
        _sections.sort(key=lambda item: item[0])
    return section


def case_file_sections(*, user, client, for_pdf: bool = False) -> list[dict]:
    """The registered sections for this client, as ``user`` may see them, in order."""
    found = []
    for _order, section in _sections:
        content = section(user=user, client=client)
        if content is None or (for_pdf and not content.get("pdf_template")):
            continue
        found.append(content)
    return found
