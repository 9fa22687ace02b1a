"""Charts drawn on the server as SVG with pygal: no JavaScript, nothing fetched, a table beside each.

Every chart is drawn from published figures only (``reports.report``): a hidden figure ("<5", "x") is drawn as
missing, never as zero. On a page the SVG is inline, with a ``<title>`` and a ``<desc>`` that a screen reader
announces (``role="img"``); its ``<style>`` is left out (the Content-Security-Policy forbids inline styles) and
comes from ``static/css/reports-charts.css``, which is pygal's own stylesheet for ``STYLE`` with the chart's id
replaced by the class ``report-chart``: ``write_stylesheet()`` makes it again after a pygal upgrade, and a test
fails while it is out of date. In the PDF the same chart is a standalone SVG image (a ``data:`` URL, the only
kind the PDF renderer fetches), with its style inside.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pygal
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from pygal.style import Style

from reports.catalogue import Indicator

FONT = 'system-ui, "Noto Sans Khmer", "Khmer OS", "DejaVu Sans", sans-serif'
COLOURS = ("#0b5cad", "#c05600", "#1a7f37", "#6f42c1", "#9a6700", "#a4161a", "#0e7490", "#5a6470")
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1b1f23", foreground_strong="#1b1f23",
    foreground_subtle="#5a6470", opacity=".85", opacity_hover=".95", transition="0ms", colors=COLOURS,
    font_family=FONT, label_font_size=15, major_label_font_size=15, value_font_size=14, legend_font_size=15,
    title_font_size=17, tooltip_font_size=14, no_data_font_size=18,
)
STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "reports-charts.css"
CLASS = "report-chart"

NO_DATA = _("Nothing to draw: no figure is shown.")
DESCRIPTION = _("%(what)s The figures are in the table below; hidden figures (“<5”, “x”) are not drawn.")


@dataclass
class Chart:
    id: str
    title: str
    description: str
    inline: SafeString
    standalone: str  # a data: URL, for the PDF
    indicators: list[Indicator] = field(default_factory=list)


def _config(**overrides) -> dict:
    config = {
        "js": [], "disable_xml_declaration": True, "style": STYLE, "width": 520, "height": 340,
        "legend_at_bottom": True, "legend_at_bottom_columns": 2, "truncate_legend": -1, "truncate_label": -1,
        "no_data_text": str(NO_DATA), "print_values": False, "margin": 16, "show_y_guides": True,
        "tooltip_border_radius": 0,
    }
    config.update(overrides)
    return config


def render(chart, *, chart_id: str, title: str, what: str, indicators=()) -> Chart:
    """``chart`` (a pygal chart, its series added) as an inline SVG and a standalone one."""
    chart.title = title
    description = str(DESCRIPTION) % {"what": what}
    tree = chart.render_tree()
    for defs in tree.findall("defs"):
        for script in defs.findall("script"):  # pygal's configuration for its JavaScript, which is not sent
            defs.remove(script)
    standalone = ET.tostring(tree, encoding="unicode")
    return Chart(id=chart_id, title=title, description=description, inline=_inline(tree, chart_id, description),
                 standalone="data:image/svg+xml;base64," + base64.b64encode(standalone.encode()).decode(),
                 indicators=list(indicators))


def _inline(tree: ET.Element, chart_id: str, description: str) -> SafeString:
    tree.set("id", chart_id)
    tree.set("class", f"pygal-chart {CLASS}")
    tree.set("role", "img")
    tree.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    for child in list(tree):
        if not isinstance(child.tag, str):  # comments
            tree.remove(child)
        elif child.tag == "defs":
            for style in child.findall("style"):
                child.remove(style)
    title = tree.find("title")
    if title is None:
        title = ET.Element("title")
        tree.insert(0, title)
    title.set("id", f"{chart_id}-title")
    desc = ET.Element("desc", {"id": f"{chart_id}-desc"})
    desc.text = description
    tree.insert(list(tree).index(title) + 1, desc)
    # The tooltips need JavaScript; their boxes and position hints (and an inline style) go.
    for parent in tree.iter():
        for child in list(parent):
            classes = (child.get("class") or "").split() if isinstance(child.tag, str) else []
            if "tooltip" in classes or (child.tag == "desc" and child.get("class") in ("x", "y", "x top", "y top",
                                                                                        "x_label")):
                parent.remove(child)
    text = ET.tostring(tree, encoding="unicode")  # every text escaped by ElementTree
    return mark_safe(text)  # noqa: S308 - serialised by ElementTree: labels and values are escaped


def _value_axis(series: list[tuple[str, list]]) -> list[int]:
    """Whole numbers on the value axis (counts are never 0.2), about five steps."""
    top = max([value for _name, values in series for value in values if value is not None] or [0])
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 25000, 50000):
        step = candidate
        if top / candidate <= 5:
            break
    else:
        step = max(1, round(top / 5))
    return list(range(0, int(top) + step + 1, step)) if top else [0, 1]


def line(*, chart_id: str, title: str, what: str, labels: list[str], series: list[tuple[str, list]],
         indicators=()) -> Chart:
    chart = pygal.Line(**_config(allow_interruptions=True, show_dots=True, dots_size=4, x_label_rotation=35,
                                 show_minor_x_labels=True, y_labels=_value_axis(series)))
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return render(chart, chart_id=chart_id, title=title, what=what, indicators=indicators)


def bars(*, chart_id: str, title: str, what: str, labels: list[str], series: list[tuple[str, list]],
         horizontal: bool = False, indicators=()) -> Chart:
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    legend = 28 * ((len(series) + 1) // 2)
    height = max(260, 90 + 26 * len(labels) * max(1, len(series)) + legend) if horizontal else 340 + legend
    chart = kind(**_config(height=height, print_values=True, print_zeroes=True, x_label_rotation=0,
                           y_labels=_value_axis(series)))
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return render(chart, chart_id=chart_id, title=title, what=what, indicators=indicators)


def stylesheet() -> str:
    """pygal's stylesheet for ``STYLE``, for the charts of every kind used, scoped to ``.report-chart``."""
    rules = []
    for kind in (pygal.Line, pygal.Bar, pygal.HorizontalBar):
        chart = kind(**_config())
        for index in range(len(COLOURS)):
            chart.add(f"s{index}", [1, 2])
        tree = chart.render_tree()
        chart_id = tree.get("id")
        for style in tree.iter("style"):
            for part in (style.text or "").split("\n"):
                part = part.replace(f"#{chart_id}", f".{CLASS}").strip()
                if part and part not in rules:
                    rules.append(part)
    header = ("/* Generated by reports.charts.write_stylesheet() from pygal's stylesheet: do not edit by hand. */")
    return "\n".join([header, *rules]) + "\n"


def write_stylesheet() -> None:
    STYLESHEET.write_text(stylesheet(), encoding="utf-8")


_ID = re.compile(r"[^a-z0-9-]+")


def chart_id(name: str) -> str:
    return "chart-" + _ID.sub("-", name.lower())
