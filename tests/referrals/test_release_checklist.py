"""The pre-release checklist on the prison unit's releases page: community treatment (a transfer or a referral for
opioid agonist therapy) and, for clients living with HIV, ART continuity; done or missing at a glance, with a link
to do what is missing, in a constant number of queries."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casemgmt import crypto
from casemgmt.roles import Role
from clients import services as client_services
from clients.releases import register_release_check, unregister_release_check
from referrals import services
from referrals.models import Referral
from referrals.releases import continuity_checks
from tests.clients.factories import screening_answers
from tests.clients.helpers import make_client
from tests.conftest import sign_in
from tests.factories import member
from tests.referrals.factories import partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

RELEASES = reverse("clients:releases")
COMMUNITY, ART = "Community treatment", "ART continuity"
DONE, MISSING, NOT_APPLICABLE = "✓ Done", "✗ Missing", "Not applicable"


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


class _Table(HTMLParser):
    """The releases table as {UIC: {column header: (cell text, [link hrefs])}}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headers, self.rows, self._row, self._cell, self._in = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._in, self._cell = tag, ["", []]
        elif tag == "tr":
            self._row = []
        elif tag == "a" and self._cell is not None:
            self._cell[1].append(dict(attrs)["href"])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            text = " ".join(self._cell[0].split())
            if tag == "th":
                self.headers.append(text)
            else:
                self._row.append((text, self._cell[1]))
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
            self._row = None

    def by_uic(self) -> dict:
        return {row[0][0]: dict(zip(self.headers, row, strict=True)) for row in self.rows}


def checklist(client, user) -> tuple[str, dict]:
    sign_in(client, user)
    response = client.get(RELEASES)
    assert response.status_code == 200
    html = response.content.decode()
    table = _Table()
    table.feed(html)
    return html, table.by_uic()


@pytest.fixture
def oat(partner):
    return partner_service(organisation=partner, service_type="oat")


@pytest.fixture
def art(partner):
    return partner_service(organisation=partner, service_type="art")


def prisoner(n, *, pete, prison, partner, hiv="never_tested", release_in=10, admitted=-100):
    """A client of pete's, in custody at the prison unit, with a screening and a sharing consent for the partner."""
    case = make_client(actor=pete, organisation=prison, n=n)
    client_services.consent_record(actor=pete, client=case, kind="treatment", method="signed", given_on=days(-200))
    client_services.screening_record(actor=pete, client=case, screened_on=days(-150), answers=screening_answers(),
                                     q8="no", intake={"hiv_status": hiv,
                                                      **({"hiv_tested_on": days(-151)} if hiv == "negative" else {})})
    client_services.custody_admit(actor=pete, client=case, facility=prison, admitted_on=days(admitted),
                                  expected_release_on=days(release_in))
    case.sharing = sharing_consent(counsellor=pete, client=case, partner=partner, given_on=days(-90))
    return case


def refer(case, service, *, pete, officer, steps=()):
    made = referral(counsellor=pete, client=case, service=service, consent=case.sharing, send="draft" not in steps)
    for step in steps:
        if step == "accept":
            made = services.referral_accept(actor=officer, referral=made)
        elif step == "attend":
            made = services.referral_attend(actor=officer, referral=made)
        elif step == "complete":
            made = services.referral_complete(actor=officer, referral=made, outcome="service_provided")
        elif step == "no_show":
            made = services.referral_no_show(actor=officer, referral=made, reason="could_not_contact")
        elif step == "close":
            made = services.referral_close_unresolved(actor=officer, referral=made, reason="client_declined")
        elif step == "decline":
            made = services.referral_decline(actor=officer, referral=made, reason="no_capacity")
        elif step == "cancel":
            made = services.referral_cancel(actor=pete, referral=made, reason="referred_elsewhere")
    return made


# (HIV status, a transfer request from a treatment centre, OAT referral steps or None, ART referral steps or None)
# -> (community treatment, ART continuity)
CASES = {
    "nothing yet": ("never_tested", False, None, None, MISSING, None),
    "negative, a centre asked for the record": ("negative", True, None, None, DONE, None),
    "OAT referral sent": ("never_tested", False, (), None, DONE, None),
    "OAT referral accepted and attended": ("negative", False, ("accept", "attend"), None, DONE, None),
    "OAT referral only a draft": ("never_tested", False, ("draft",), None, MISSING, None),
    "OAT referral declined": ("never_tested", False, ("decline",), None, MISSING, None),
    "OAT referral missed": ("never_tested", False, ("accept", "no_show"), None, MISSING, None),
    "living with HIV, nothing yet": ("positive_no_art", False, None, None, MISSING, MISSING),
    "on ART, ART referral sent, a centre asked": ("positive_art", True, None, (), DONE, DONE),
    "on ART, ART referral completed, OAT closed unresolved": ("positive_art", False, ("accept", "close"),
                                                               ("accept", "attend", "complete"), MISSING, DONE),
    "not on ART, ART referral cancelled": ("positive_no_art", False, (), ("cancel",), DONE, MISSING),
    "not on ART, ART referral declined": ("positive_no_art", True, None, ("decline",), DONE, MISSING),
    "not on ART, ART referral only a draft": ("positive_no_art", False, None, ("draft",), MISSING, MISSING),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_line_says_done_or_missing(client, pete, alice, priya, prison, partner, oat, art, name):
    hiv, transfer, oat_steps, art_steps, community, art_line = CASES[name]
    case = prisoner(1, pete=pete, prison=prison, partner=partner, hiv=hiv)
    if transfer:
        client_services.transfer_request_create(actor=alice, client=case)
    if oat_steps is not None:
        refer(case, oat, pete=pete, officer=priya, steps=oat_steps)
    if art_steps is not None:
        refer(case, art, pete=pete, officer=priya, steps=art_steps)

    html, rows = checklist(client, pete)
    row = rows[case.uic]
    assert row[COMMUNITY][0].startswith(community)
    if art_line is None:
        assert ART not in row  # nobody on the page lives with HIV: no ART column at all
    else:
        assert row[ART][0].startswith(art_line)
    if community == DONE and transfer:
        assert "Transfer requested by Centre A (test)" in row[COMMUNITY][0]
    elif community == DONE:
        assert "Referral to Partner NGO (test)" in row[COMMUNITY][0]
    assert case.given_name not in html and case.family_name not in html  # a list: the UIC only


def test_only_clients_living_with_hiv_get_the_art_line(client, pete, prison, partner):
    negative = prisoner(1, pete=pete, prison=prison, partner=partner, hiv="negative")
    never = prisoner(2, pete=pete, prison=prison, partner=partner, hiv="never_tested")
    on_art = prisoner(3, pete=pete, prison=prison, partner=partner, hiv="positive_art")
    # Screened again since: the latest screening decides (never tested before, living with HIV now).
    became = prisoner(4, pete=pete, prison=prison, partner=partner, hiv="never_tested")
    client_services.screening_record(actor=pete, client=became, screened_on=days(-10), answers=screening_answers(),
                                     q8="no", intake={"hiv_status": "positive_no_art"})

    _html, rows = checklist(client, pete)
    # A dash, read out as "Not applicable".
    assert rows[negative.uic][ART][0] == rows[never.uic][ART][0] == f"—{NOT_APPLICABLE}"
    assert rows[on_art.uic][ART][0] == rows[became.uic][ART][0] == f"{MISSING} Refer for ART"
    assert all(rows[case.uic][COMMUNITY][0].startswith(MISSING) for case in (negative, never, on_art, became))


def test_a_referral_or_transfer_made_before_this_admission_does_not_count(client, pete, alice, priya, prison,
                                                                            partner, oat, art):
    case = prisoner(1, pete=pete, prison=prison, partner=partner, hiv="positive_art", admitted=-1)
    old_art = refer(case, art, pete=pete, officer=priya, steps=("accept",))
    old_oat = refer(case, oat, pete=pete, officer=priya)
    request = client_services.transfer_request_create(actor=alice, client=case)
    earlier = timezone.now() - datetime.timedelta(days=30)  # the last time the client was here
    Referral.objects.filter(pk__in=[old_art.pk, old_oat.pk]).update(sent_at=earlier)
    type(request).objects.filter(pk=request.pk).update(requested_at=earlier)

    _html, rows = checklist(client, pete)
    assert (rows[case.uic][COMMUNITY][0], rows[case.uic][ART][0]) == (
        f"{MISSING} Refer for opioid agonist therapy", f"{MISSING} Refer for ART")


def test_each_missing_line_links_to_doing_it_and_each_done_line_to_what_was_done(client, pete, priya, prison,
                                                                                  partner, oat, art):
    case = prisoner(1, pete=pete, prison=prison, partner=partner, hiv="positive_no_art")
    _html, rows = checklist(client, pete)
    new = reverse("referrals:new", args=[case.pk])
    # A counsellor cannot transfer a record: only the referral is offered.
    assert rows[case.uic][COMMUNITY][1] == [f"{new}?service_type=oat"]
    assert rows[case.uic][ART][1] == [f"{new}?service_type=art"]

    form = client.get(f"{new}?service_type=art")
    assert list(form.context["form"].fields["service"].queryset) == [art]
    assert form.context["form"]["service"].value() == art.pk
    assert "Services for: ART initiation and continuation." in form.content.decode()

    sent = refer(case, art, pete=pete, officer=priya)
    _html, rows = checklist(client, pete)
    assert rows[case.uic][ART] == (f"{DONE} Referral to Partner NGO (test): Sent Open the referral",
                                   [reverse("referrals:detail", args=[sent.pk])])


def test_a_manager_is_offered_the_transfer_too(client, pete, prison, partner, oat):
    warden = member("wendy", Role.CENTRE_MANAGER, prison)
    case = prisoner(1, pete=pete, prison=prison, partner=partner)
    _html, rows = checklist(client, warden)
    assert rows[case.uic][COMMUNITY] == (f"{MISSING} Transfer the record Refer for opioid agonist therapy", [
        reverse("clients:transfer", args=[case.pk]), f"{reverse('referrals:new', args=[case.pk])}?service_type=oat"])


def test_the_page_says_what_counts(client, pete, prison, partner):
    prisoner(1, pete=pete, prison=prison, partner=partner, hiv="positive_art")
    html, _rows = checklist(client, pete)
    assert "What the checklist counts" in html
    assert ("Done when there is one of these:<ul class=\"plain\"><li>a transfer of the record to a community "
            "treatment centre, requested by that centre or completed, since the admission</li><li>a referral for "
            "methadone or other opioid agonist therapy, sent to a partner since the admission and not declined, "
            "cancelled or ended without care</li></ul>") in html
    assert ("Done when there is a referral for ART initiation and continuation, sent to a partner since the admission "
            "and not declined, cancelled or ended without care (only for clients whose latest screening records them "
            "as living with HIV).") in html


def test_the_new_referral_page_ignores_an_unknown_service_and_says_when_none_of_the_kind_accepts(client, pete,
                                                                                                 prison, partner, oat):
    case = prisoner(1, pete=pete, prison=prison, partner=partner)
    sign_in(client, pete)
    new = reverse("referrals:new", args=[case.pk])
    unknown = client.get(f"{new}?service_type=bogus")
    assert list(unknown.context["form"].fields["service"].queryset) == [oat]
    assert "Services for:" not in unknown.content.decode()
    none = client.get(f"{new}?service_type=art")
    assert list(none.context["form"].fields["service"].queryset) == [oat]
    assert ("No service for ART initiation and continuation is accepting referrals now: every service is listed."
            in none.content.decode())


def test_clients_alone_gives_the_transfer_line(client, pete, alice, prison, partner):
    """The hook's contract: without the referrals' provider the page still has the transfer line."""
    asked = prisoner(1, pete=pete, prison=prison, partner=partner, hiv="positive_art")
    client_services.transfer_request_create(actor=alice, client=asked)
    unregister_release_check(continuity_checks)
    try:
        html, rows = checklist(client, pete)
    finally:
        register_release_check(continuity_checks)
    assert rows[asked.uic][COMMUNITY][0] == f"{DONE} Transfer requested by Centre A (test) Transfers"
    assert ART not in rows[asked.uic] and "opioid agonist therapy" not in html


def test_the_page_makes_the_same_number_of_queries_for_two_clients_or_eight(client, pete, alice, priya, prison,
                                                                            partner, oat, art):
    def page_queries() -> int:
        crypto.data_key_cache.clear()  # every client seen for the first time: their keys load with the page
        with CaptureQueriesContext(connection) as queries:
            assert client.get(RELEASES).status_code == 200
        return len(queries)

    def add(n):
        case = prisoner(n, pete=pete, prison=prison, partner=partner,
                        hiv="positive_art" if n % 2 else "negative")
        refer(case, art if n % 2 else oat, pete=pete, officer=priya, steps=("accept",) if n % 3 else ())
        if n % 4 == 0:
            client_services.transfer_request_create(actor=alice, client=case)

    for n in (1, 2):
        add(n)
    sign_in(client, pete)
    client.get(RELEASES)  # the session and its first-request writes settle
    two = page_queries()
    for n in range(3, 9):
        add(n)
    _html, rows = checklist(client, pete)
    assert len(rows) == 8
    assert page_queries() == two


@pytest.mark.parametrize("actor, status", [("priya", 403), ("rita", 403), ("otto", 403), ("sam", 403),
                                           ("alice", 200), ("bob", 200)])
def test_partners_and_other_roles_never_reach_the_releases_page(client, actors, pete, prison, partner, actor,
                                                                status):
    case = prisoner(1, pete=pete, prison=prison, partner=partner, hiv="positive_art")
    sign_in(client, actors[actor])
    response = client.get(RELEASES)
    assert response.status_code == status
    html = response.content.decode()
    assert case.uic not in html and ART not in html  # care staff elsewhere: their own (empty) list


def test_the_demo_shows_releases_with_and_without_continuity(client, settings, tmp_path):
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    settings.DEVELOPMENT = True
    for command in ("seed_demo", "seed_demo_clients", "seed_demo_referrals"):
        call_command(command, stdout=io.StringIO())
    users = get_user_model().objects
    _html, rows = checklist(client, users.get(username="prison.counsellor"))
    def state(cell) -> str:
        return next(word for word in (DONE, MISSING, NOT_APPLICABLE) if word in cell[0])

    # Soonest first: everything done; a centre asked for the record but no ART referral yet; nothing yet.
    assert [(state(row[COMMUNITY]), state(row[ART])) for row in rows.values()] == [
        (DONE, DONE), (DONE, MISSING), (MISSING, NOT_APPLICABLE)]
    before = Referral.objects.count()
    out = io.StringIO()
    call_command("seed_demo_referrals", stdout=out)
    assert Referral.objects.count() == before and out.getvalue() == "Demo referrals exist already.\n"
