"""Writes to the case file. Each is one transaction, validated before it saves, and audited."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit, crypto, locks, transitions, versioning
from casemgmt.models import AuditAction, Organisation
from casemgmt.roles import CARE_KINDS, OrganisationKind, Role
from casemgmt.text import normalise_text
from casemgmt.transitions import TransitionRefused
from clients import assist
from clients.models import (
    Client,
    ClientStatus,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentWording,
    CustodyEpisode,
    HivStatus,
    Screening,
    Transfer,
    TransferStatus,
)
from clients.selectors import CHANGE, VIEW, current_wording, has_active_treatment_consent, wording_in_use
from clients.signals import consent_revoked
from clients.uic import compute_uic
from clients.validators import not_in_future_field

ERROR_DUPLICATE_NATIONAL_ID = _("A client with this national ID is already registered.")
ERROR_NO_TREATMENT_CONSENT = _(
    "This client has no active consent to treatment and data processing, so no clinical record can be added. "
    "Record their consent first."
)
ERROR_CONSENT_EXPIRES_BEFORE_GIVEN = _("A consent cannot expire before it is given.")
ERROR_SHARING_NEEDS_PARTNER = _("Choose the partner organisation the client agrees to share with.")
ERROR_SHARING_NEEDS_CATEGORIES = _("Choose at least one category of information the client agrees to share.")
ERROR_SHARING_NEEDS_PURPOSE = _("Say for what purpose the information is shared.")
ERROR_VERBAL_NEEDS_WITNESS = _("A verbal consent needs the name of its witness.")
ERROR_THUMBPRINT_NEEDS_WITNESS = _("A consent given by thumbprint needs the name of its witness: the client could not "
                                   "sign, so someone else saw them agree.")
ERROR_NO_WORDING = _("No wording of this consent is in use in this language yet, so there is nothing to read to the "
                     "client. A system administrator publishes one in the administration site.")
ERROR_WORDING_NOT_CURRENT = _("The wording of this consent changed since the form was opened. Read the new version, "
                              "shown on this page, to the client, then save again.")
ERROR_WORDING_IN_USE = _("This wording was read to clients and their consents record it: it cannot change. Publish "
                         "a new version instead.")
ERROR_WORDING_NOT_ADMINISTRATOR = _("Only a system administrator publishes consent wordings.")
ERROR_RELEASE_BEFORE_ADMISSION = _("The release cannot be before the admission.")
ERROR_NOT_A_PRISON = _("Custody is recorded at a prison health unit.")
ERROR_NOT_A_COUNSELLOR_HERE = _("Choose a counsellor of the client's centre.")
ERROR_NOT_A_CARE_ORGANISATION = _(
    "Clients can only be transferred to an active treatment centre or prison health unit."
)
ERROR_HIV_TEST_DATE = _("Give the date of the negative test.")
ERROR_REVOKED_BEFORE_GIVEN = _("A consent cannot be revoked before it was given.")
ERROR_ALREADY_REVOKED = _("This consent was already revoked.")
ERROR_ALREADY_MOVED = _(
    "This client's record was moved by someone else meanwhile: it is no longer at this centre, and nothing was "
    "changed."
)

IDENTITY_FIELDS = [
    "given_name", "family_name", "other_names", "date_of_birth", "phone", "village", "commune", "district",
    "national_id", "mother_first_name", "father_first_name", "sex", "province",
]


# Relations a registration sets from objects it is given (the user's organisation, the counsellor), never
# from the form: validating them would only ask the database whether rows just read exist (the foreign
# key constraints still hold).
SET_BY_THE_SERVICE = ["organisation", "registered_by_organisation", "counsellor"]


class ConsentRequired(PermissionDenied):
    pass


def _grant_client(client: Client, *, organisation: Organisation, counsellor=None) -> None:
    access.grant_all((VIEW, CHANGE), client, groups=[organisation.staff_group_id],
                     users=[counsellor] if counsellor is not None else [])


def _revoke_client(client: Client, *, organisation: Organisation | None = None, counsellor=None) -> None:
    access.revoke_all((VIEW, CHANGE), client, groups=[organisation.staff_group_id] if organisation is not None else [],
                      users=[counsellor] if counsellor is not None else [])


def _check_national_id(client: Client) -> None:
    """No two clients with one national ID. The caller's transaction keeps the lock until the save commits."""
    if not client.national_id:
        return
    # The index is truncated (different people share its values), so no unique constraint can hold this rule:
    # a lock on the values looked up makes a second registration wait, then find the first one's row.
    locks.hold_blind_index(Client, "national_id_index", client.national_id)
    others = Client.objects.exclude(pk=client.pk).blind_search("national_id_index", client.national_id)
    if others:
        raise ValidationError({"national_id": ERROR_DUPLICATE_NATIONAL_ID})


def _locked(client: Client) -> Client:
    """The client's row as it is now, locked until the transaction ends (for changes that are not edits)."""
    return Client.objects.select_for_update().get(pk=client.pk)


def touch(client: Client) -> None:
    client.last_activity_at = timezone.now()
    Client.objects.filter(pk=client.pk).update(last_activity_at=client.last_activity_at)


def _normalised(identity: dict) -> dict:
    """Identity text in Unicode NFC (casemgmt.text), whoever calls: the same name typed on two keyboards is the
    same text. What is not text is refused by the fields' validators."""
    return {name: normalise_text(value) if isinstance(value, str) else value for name, value in identity.items()}


def client_check_identity(*, organisation: Organisation, identity: dict) -> None:
    """Validate an identity as registration would, without saving (bad input is shown before duplicates)."""
    identity = _normalised(identity)
    client = Client(organisation=organisation, registered_by_organisation=organisation, **identity)
    _fill_derived(client)
    client.full_clean(exclude=SET_BY_THE_SERVICE)


@transaction.atomic
def client_register(*, actor, organisation: Organisation, identity: dict, population_groups=(),
                    counsellor=None) -> Client:
    """Register a client at ``organisation``: a data key, the UIC, grants for the centre and counsellor."""
    identity = _normalised(identity)
    if access.role_of(actor) == Role.COUNSELLOR:
        counsellor = actor
    client = Client(organisation=organisation, registered_by_organisation=organisation, counsellor=counsellor,
                    population_groups=population_groups, **identity)
    _fill_derived(client)
    client.full_clean(exclude=SET_BY_THE_SERVICE)
    _check_national_id(client)
    crypto.new_subject(client.pk)  # its data key, made once, before the values are encrypted with it
    client.save(force_insert=True)
    _grant_client(client, organisation=organisation, counsellor=counsellor)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="clients.client", object_id=client.pk,
                 client_id=client.pk, fields=[*identity.keys(), "population_groups"])
    return client


def _fill_derived(client: Client) -> None:
    if client.date_of_birth and client.mother_first_name and client.father_first_name and client.sex:
        client.uic = compute_uic(mother_first_name=client.mother_first_name,
                                 father_first_name=client.father_first_name, sex=client.sex,
                                 date_of_birth=client.date_of_birth)
        client.birth_year = client.date_of_birth.year


@transaction.atomic
def client_update_identity(*, actor, client: Client, identity: dict, population_groups=None,
                           expected_version: int | None = None) -> Client:
    """Change identity details. ``expected_version``: the version the form was filled in from; another
    person's save since then is a ``Conflict`` (nothing written), as is one that lands while this one runs."""
    versioning.check_version(client, expected_version)
    identity = _normalised(identity)
    changed = [name for name, value in identity.items() if getattr(client, name) != value]
    for name, value in identity.items():
        setattr(client, name, value)
    if population_groups is not None:
        groups = Client._meta.get_field("population_groups").to_python(population_groups)
        if set(groups) != set(client.population_groups or ()):
            changed.append("population_groups")
        client.population_groups = groups
    _fill_derived(client)
    client.full_clean()
    _check_national_id(client)
    client.last_activity_at = timezone.now()
    client.save()
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="clients.client", object_id=client.pk,
                 client_id=client.pk, fields=changed)
    return client


@transaction.atomic
def client_assign(*, actor, client: Client, counsellor) -> Client:
    """Give the client to ``counsellor`` (of the client's centre); the previous one loses access.

    A state change, not an edit of the identity: the row is locked and changed as it is now, so that an
    identity saved meanwhile is neither a conflict nor overwritten."""
    membership = getattr(counsellor, "membership", None) if counsellor else None
    if counsellor is not None and (
        membership is None or membership.organisation_id != client.organisation_id
        or membership.role != Role.COUNSELLOR
    ):
        raise ValidationError({"counsellor": ERROR_NOT_A_COUNSELLOR_HERE})
    client = _locked(client)
    previous = client.counsellor
    if previous is not None and previous != counsellor:
        _revoke_client(client, counsellor=previous)
    if counsellor is not None:
        access.grant_all((VIEW, CHANGE), client, users=[counsellor])
    client.counsellor = counsellor
    client.last_activity_at = timezone.now()
    client.save(update_fields=["counsellor", "last_activity_at"])
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="clients.client", object_id=client.pk,
                 client_id=client.pk, fields=["counsellor"])
    return client


@transaction.atomic
def client_transfer(*, actor, client: Client, to_organisation: Organisation,
                    transfer: Transfer | None = None, counsellor=None) -> Transfer:
    """Move the record: the old centre and counsellor lose access at once, the new centre gains it.

    The client row is locked and must still be at the centre it is moved from (the actor's, or the
    request's holder): a second manager moving it at the same time finds it gone and changes nothing.
    ``counsellor`` (of the new centre) is given the record at once; otherwise the new centre's managers
    see it and assign it.
    """
    if to_organisation.kind not in CARE_KINDS or not to_organisation.active or \
            to_organisation.pk == client.organisation_id:
        raise ValidationError({"to_organisation": ERROR_NOT_A_CARE_ORGANISATION})
    from_organisation_id = transfer.from_organisation_id if transfer is not None else client.organisation_id
    locked = Client.objects.select_for_update().filter(pk=client.pk, organisation_id=from_organisation_id).first()
    if locked is None:
        raise TransitionRefused(ERROR_ALREADY_MOVED)
    if counsellor is not None and not _is_counsellor_of(counsellor, to_organisation):
        counsellor = None
    old = Organisation.objects.get(pk=from_organisation_id)
    _revoke_client(locked, organisation=old, counsellor=locked.counsellor)
    locked.organisation = to_organisation
    locked.counsellor = counsellor
    locked.last_activity_at = timezone.now()
    locked.save(update_fields=["organisation", "counsellor", "last_activity_at"])
    _grant_client(locked, organisation=to_organisation, counsellor=counsellor)
    now = timezone.now()
    if transfer is None:
        transfer = Transfer(client=locked, from_organisation=old, to_organisation=to_organisation,
                            requested_by=actor)
    transfer.status = TransferStatus.COMPLETED
    transfer.decided_by = actor
    transfer.decided_at = now
    transfer.save()
    # Declined or completed, any other open request for this client is now moot.
    Transfer.objects.filter(client=locked, status=TransferStatus.REQUESTED).exclude(pk=transfer.pk).update(
        status=TransferStatus.DECLINED, decided_by=actor, decided_at=now)
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="clients.client", object_id=locked.pk,
                 client_id=locked.pk, fields=["organisation", "counsellor"],
                 reason=f"transfer {old.pk} -> {to_organisation.pk}")
    client.organisation, client.counsellor, client.version = to_organisation, counsellor, locked.version
    return transfer


def _is_counsellor_of(user, organisation: Organisation) -> bool:
    membership = getattr(user, "membership", None)
    return (membership is not None and membership.organisation_id == organisation.pk
            and membership.role == Role.COUNSELLOR and user.is_active)


@transaction.atomic
def transfer_request_create(*, actor, client: Client) -> Transfer:
    organisation = access.organisation_of(actor)
    # Two requests at once: the constraint one_open_transfer_request refuses the second insert, and
    # get_or_create then reads the first one's request, as it would a moment later.
    transfer, _created = Transfer.objects.get_or_create(
        client=client, to_organisation=organisation, status=TransferStatus.REQUESTED,
        defaults={"from_organisation": client.organisation, "requested_by": actor},
    )
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="clients.transfer", object_id=transfer.pk,
                 client_id=client.pk)
    return transfer


@transaction.atomic
def transfer_decide(*, actor, transfer: Transfer, accept: bool) -> Transfer:
    """Accept or decline a request to the actor's centre, through the locked transition: a request already
    decided (by another manager, or on another page) is refused with a clear message.

    Accepted, the record goes to the requesting centre, on the requester's caseload when they are one of
    its counsellors (they asked for it), else to its managers until they assign it."""
    now = timezone.now()
    if not accept:
        return transitions.transition(
            Transfer, pk=transfer.pk, actor=actor, source=[TransferStatus.REQUESTED], target=TransferStatus.DECLINED,
            changes={"decided_by": actor, "decided_at": now},
            queryset=Transfer.objects.filter(from_organisation=access.organisation_of(actor)))
    locked = transitions.transition(
        Transfer, pk=transfer.pk, actor=actor, source=[TransferStatus.REQUESTED], target=TransferStatus.COMPLETED,
        changes={"decided_by": actor, "decided_at": now},
        queryset=Transfer.objects.filter(from_organisation=access.organisation_of(actor)))
    locked.client = Client.objects.get(pk=locked.client_id)
    return client_transfer(actor=actor, client=locked.client, to_organisation=locked.to_organisation,
                           transfer=locked, counsellor=locked.requested_by)


@transaction.atomic
def consent_record(*, actor, client: Client, kind: str, given_on: datetime.date, method: str,
                   expires_on: datetime.date | None = None, partner: Organisation | None = None,
                   purpose: str = "", categories=(), witness_name: str = "", language: str = "en",
                   wording_version: int | None = None) -> Consent:
    """A consent, with the wording read to the client in ``language``: ``wording_version`` is the version the form
    showed, refused unless it is still the one in use for this kind and language; without it (seeds, imports), the
    one in use today is recorded."""
    errors = {}
    if expires_on and given_on and expires_on < given_on:
        errors["expires_on"] = ERROR_CONSENT_EXPIRES_BEFORE_GIVEN
    if kind == ConsentKind.SHARING:
        if partner is None or partner.kind != OrganisationKind.NGO_PARTNER:
            errors["partner"] = ERROR_SHARING_NEEDS_PARTNER
        if not categories:
            errors["categories"] = ERROR_SHARING_NEEDS_CATEGORIES
        if not purpose.strip():
            errors["purpose"] = ERROR_SHARING_NEEDS_PURPOSE
    else:
        partner, categories = None, []
    # The client could not sign: someone saw them agree, and is named.
    if method == ConsentMethod.VERBAL and not witness_name.strip():
        errors["witness_name"] = ERROR_VERBAL_NEEDS_WITNESS
    if method == ConsentMethod.THUMBPRINT and not witness_name.strip():
        errors["witness_name"] = ERROR_THUMBPRINT_NEEDS_WITNESS
    in_use = current_wording(kind=kind, language=language)
    if in_use is None:
        errors["language"] = ERROR_NO_WORDING
    elif wording_version is not None and wording_version != in_use.version:
        errors["language"] = ERROR_WORDING_NOT_CURRENT
    if errors:
        raise ValidationError(errors)
    consent = Consent(client=client, kind=kind, partner=partner, purpose=purpose, categories=sorted(categories),
                      given_on=given_on, expires_on=expires_on, method=method, witness_name=witness_name,
                      wording=in_use, language=language, recorded_by=actor)
    consent.full_clean()
    consent.save(force_insert=True)
    touch(client)
    audit.record(actor=actor, action=AuditAction.CONSENT_CHANGE, object_type="clients.consent", object_id=consent.pk,
                 client_id=client.pk, fields=["kind", "given_on", "expires_on", "method", "partner", "categories",
                                              "wording", "language"])
    return consent


@transaction.atomic
def consent_wording_save(*, actor, wording: ConsentWording, changed=()) -> ConsentWording:
    """A system administrator publishes a wording (the next version of its kind and language), or corrects one
    that no consent records yet. One that a consent records is refused: its change is a new version."""
    if access.role_of(actor) != Role.SYSTEM_ADMINISTRATOR:
        raise ValidationError(ERROR_WORDING_NOT_ADMINISTRATOR)
    created = wording._state.adding
    if created:
        # Two administrators publishing at once take turns; the unique constraint holds it anyway.
        locks.hold("clients.consentwording.version", f"{wording.kind}:{wording.language}")
        latest = ConsentWording.objects.filter(kind=wording.kind, language=wording.language).order_by(
            "-version").values_list("version", flat=True).first()
        wording.version = (latest or 0) + 1
        changed = ["kind", "language", "text", "published_on"]
    else:
        stored = ConsentWording.objects.select_for_update().get(pk=wording.pk)
        if wording_in_use(stored):
            raise ValidationError(ERROR_WORDING_IN_USE)
        # Kind, language and version stay what they were: only the text and the date are corrected.
        stored.text, stored.published_on = wording.text, wording.published_on
        wording = stored
        changed = [name for name in changed if name in ("text", "published_on")]
    wording.full_clean()
    wording.save(force_insert=created)
    audit.record(actor=actor, action=AuditAction.CREATE if created else AuditAction.CHANGE,
                 object_type="clients.consentwording", object_id=wording.pk, fields=list(changed))
    return wording


@transaction.atomic
def consent_revoke(*, actor, consent: Consent, revoked_on: datetime.date, reason: str) -> Consent:
    if consent.revoked_on is not None:
        raise ValidationError(ERROR_ALREADY_REVOKED)
    if revoked_on < consent.given_on:
        raise ValidationError({"revoked_on": ERROR_REVOKED_BEFORE_GIVEN})
    consent.revoked_on = revoked_on
    consent.revoke_reason = reason
    consent.full_clean()
    consent.save()
    touch(consent.client)
    audit.record(actor=actor, action=AuditAction.CONSENT_CHANGE, object_type="clients.consent", object_id=consent.pk,
                 client_id=consent.client_id, fields=["revoked_on", "revoke_reason"], reason="revoked")
    consent_revoked.send(sender=Consent, consent=consent, actor=actor)
    return consent


@transaction.atomic
def screening_record(*, actor, client: Client, screened_on: datetime.date, answers: dict, q8: str,
                     intake: dict) -> Screening:
    """An ASSIST screening with intake data. Needs an active treatment consent."""
    if not has_active_treatment_consent(client, screened_on):
        raise ConsentRequired(ERROR_NO_TREATMENT_CONSENT)
    try:
        result = assist.score_screening(answers, q8)
    except assist.AssistError as exc:
        if exc.substance and exc.question:
            raise ValidationError({f"{exc.substance}__{exc.question}": exc.message}) from None
        raise ValidationError({exc.question: exc.message} if exc.question else exc.message) from None
    if intake.get("hiv_status") == HivStatus.NEGATIVE and not intake.get("hiv_tested_on"):
        raise ValidationError({"hiv_tested_on": ERROR_HIV_TEST_DATE})
    screening = Screening(client=client, screened_on=screened_on, screened_by=actor,
                          answers={"substances": answers, "q8": q8}, **intake)
    coded = result.as_dict()
    screening.results = coded
    screening.highest_risk = result.highest_risk or ""
    screening.injection_risk = result.injection
    screening.full_clean()
    screening.save(force_insert=True)
    latest = client.screenings.order_by("-screened_on", "-created_at").first()
    locked = _locked(client)  # derived from the screenings: written on the row as it is now, never a conflict
    locked.risk_level = client.risk_level = latest.highest_risk
    locked.last_activity_at = client.last_activity_at = timezone.now()
    locked.save(update_fields=["risk_level", "last_activity_at"])
    client.version = locked.version
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="clients.screening", object_id=screening.pk,
                 client_id=client.pk, fields=["answers", *intake.keys()])
    return screening


@transaction.atomic
def custody_admit(*, actor, client: Client, facility: Organisation, admitted_on: datetime.date,
                  expected_release_on: datetime.date | None = None) -> CustodyEpisode:
    errors = {}
    if facility.kind != OrganisationKind.PRISON_HEALTH_UNIT:
        errors["facility"] = ERROR_NOT_A_PRISON
    if expected_release_on and expected_release_on < admitted_on:
        errors["expected_release_on"] = ERROR_RELEASE_BEFORE_ADMISSION
    if errors:
        raise ValidationError(errors)
    episode = CustodyEpisode(client=client, facility=facility, admitted_on=admitted_on,
                             expected_release_on=expected_release_on, recorded_by=actor)
    episode.full_clean()
    episode.save(force_insert=True)
    touch(client)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="clients.custodyepisode", object_id=episode.pk,
                 client_id=client.pk, fields=["facility", "admitted_on", "expected_release_on"])
    return episode


@transaction.atomic
def custody_release(*, actor, episode: CustodyEpisode, released_on: datetime.date) -> CustodyEpisode:
    if released_on < episode.admitted_on:
        raise ValidationError({"released_on": ERROR_RELEASE_BEFORE_ADMISSION})
    not_in_future_field("released_on", released_on)
    episode.released_on = released_on
    episode.save(update_fields=["released_on"])
    touch(episode.client)
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="clients.custodyepisode", object_id=episode.pk,
                 client_id=episode.client_id, fields=["released_on"])
    return episode


def mark_erased(sender, *, subject_id, **kwargs) -> None:
    """After crypto-shredding: the client counts as erased (coded statistics stay)."""
    Client.objects.filter(pk=subject_id).update(status=ClientStatus.ERASED, counsellor=None)
