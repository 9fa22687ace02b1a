"""Home-page panels that feature apps contribute (casemgmt never imports a feature app).

An app registers ``panel(request) -> dict | None`` in its ``AppConfig.ready``; the dict
names a ``template`` and its context. Panels render in registration order.
"""

from __future__ import annotations

from collections.abc import Callable

_panels: list[Callable] = []


def register_home_panel(panel: Callable) -> Callable:
    if panel not in _panels:
        _panels.append(panel)
    return panel


def panels_for(request) -> list[dict]:
    return [content for panel in _panels if (content := panel(request)) is not None]
