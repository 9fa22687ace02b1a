"""The indicator catalogue (reports/catalogue.py): every indicator the issue lists, each with one complete,
translatable definition; a page that lists them (in the page's language and the other one); every table and chart
linked to its indicator's definition."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise

from reports import catalogue, report
from reports.scope import NATIONAL, Scope
from tests.conftest import sign_in
from tests.reports.factories import past_month

LOCALE = Path(settings.BASE_DIR) / "locale" / "km" / "LC_MESSAGES"

# The issue's list, item 1, as codes.
ISSUE_INDICATORS = {
    "CL-NEW", "CL-ACT",  # clients newly registered, active
    "AS-SCR", "AS-RISK", "AS-INJ",  # screened with the ASSIST, by substance and risk level; who inject
    "CO-HELD", "CO-ATT", "RT-M3", "RT-M6",  # sessions delivered and attended; retention in months 3 and 6
    "TP-ACT", "TP-CMP", "TP-DIS", "RM-ACH",  # plans active, completed, discontinued; milestones achieved
    "HIV-KNOWN", "HIV-REF", "HIV-TEST", "HIV-REACT", "HIV-CONF", "HIV-ART",  # the cascade
    "RF-SENT", "RF-ACC", "RF-CMP", "RF-CLR", "RF-MED", "RF-OVD",  # referrals, closed loop, median days, overdue
    "PR-REL", "PR-COC", "PR-LNK",  # releases, continuity-of-care referral, linkage within 30 days
}
FIELDS = ("name", "definition", "counts", "period_date", "counted_at", "numerator")


def test_the_catalogue_has_every_indicator_of_the_issue_each_defined_in_full():
    assert {i.code for i in catalogue.INDICATORS} == ISSUE_INDICATORS
    assert len({i.code for i in catalogue.INDICATORS}) == len(catalogue.INDICATORS)
    assert len({i.anchor for i in catalogue.INDICATORS}) == len(catalogue.INDICATORS)
    for indicator in catalogue.INDICATORS:
        assert re.fullmatch(r"[A-Z]{2,3}-[A-Z0-9]{2,5}", indicator.code)
        for name in FIELDS:
            value = getattr(indicator, name)
            assert isinstance(value, Promise) and str(value).strip(), (indicator.code, name)  # translatable
        assert indicator.denominator is None or isinstance(indicator.denominator, Promise)
        assert indicator.kind in ("count", "rate", "median")
        assert set(indicator.disaggregations) <= set(catalogue.DIMENSION_LABELS)
        if indicator.kind != "count":
            assert indicator.denominator is not None, indicator.code
    assert sorted(code for _title, codes in catalogue.SECTIONS for code in codes) == sorted(ISSUE_INDICATORS)


def test_every_indicator_of_the_catalogue_is_computed():
    assert [i.code for i in catalogue.INDICATORS if not i.available] == []


def _po_entries(path: Path) -> dict[str, str]:
    """{msgid: msgstr} of a .po file (plural entries: their singular and first form)."""
    found, key, current = {}, None, {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines() + [""]:
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgctxt) (".*")$', line)
        if match:
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip():
            if current.get("msgid"):
                found[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
            current, key = {}, None
    return found


def _msgid(promise: Promise) -> str:
    return promise._args[0]  # the English source of a lazy translation


def test_every_catalogue_text_has_its_khmer_translation():
    translated = _po_entries(LOCALE / "django.po")
    missing = []
    texts = [text for i in catalogue.INDICATORS for text in (*(getattr(i, name) for name in FIELDS), i.denominator)
             if text is not None]
    texts += [*catalogue.DIMENSION_LABELS.values(), *(label for _c, label in catalogue.SETTINGS),
              *(label for _c, label, _l, _h in catalogue.AGE_BANDS), *(title for title, _codes in catalogue.SECTIONS),
              catalogue.UNAVAILABLE]
    for text in texts:
        msgid = _msgid(text)
        if not translated.get(msgid):
            missing.append(msgid)
    assert missing == []


@pytest.mark.django_db
def test_the_definitions_page_lists_every_indicator_in_both_languages(client, rita):
    sign_in(client, rita)

    html = client.get(reverse("reports:definitions")).content.decode()

    for indicator in catalogue.INDICATORS:
        assert f'id="{indicator.anchor}"' in html
        assert f"<code>{indicator.code}</code>" in html
    assert html.count('lang="km"') >= len(catalogue.INDICATORS)  # each one in the other language too
    assert "Not computed in this version" not in html  # every figure is computed


@pytest.mark.django_db
def test_every_table_of_the_full_report_links_the_definition_of_its_indicator(client, rita):
    sign_in(client, rita)
    period = past_month(1)
    built = report.build(scope=Scope(NATIONAL), period=period, parts=report.FULL)

    html = client.get(reverse("reports:report"), {"period": "month", "year": period.start.year,
                                                  "month": period.start.month}).content.decode()

    for table in built.tables:
        section = html.split(f'id="table-{table.id}"')[1].split("</section>")[0]
        assert f'href="/reports/definitions/#{table.indicator.anchor}"' in section, table.id
    for chart in re.findall(r'<figure class="chart">.*?</figure>', html, re.S):
        assert 'href="/reports/definitions/#indicator-' in chart
