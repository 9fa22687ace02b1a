import pytest

from tests.referrals.factories import referral_setup


@pytest.fixture
def setup(alice, centre_a, partner):
    return referral_setup(counsellor=alice, organisation=centre_a, partner=partner)


@pytest.fixture
def other_partner(db):
    from casemgmt.roles import OrganisationKind, Province
    from tests.factories import organisation

    return organisation("Other partner NGO (test)", OrganisationKind.NGO_PARTNER, Province.BATTAMBANG)


@pytest.fixture
def olga(other_partner):
    from casemgmt.roles import Role
    from tests.factories import member

    return member("olga", Role.REFERRAL_OFFICER, other_partner)


@pytest.fixture
def percy(partner):
    """A second referral officer of the partner."""
    from casemgmt.roles import Role
    from tests.factories import member

    return member("percy", Role.REFERRAL_OFFICER, partner)


@pytest.fixture
def khmer_catalogue(tmp_path, settings):
    """This branch's pending Khmer translations, compiled ahead of the project's catalogue; once the lead has merged
    them into django.po (and removed the pending file) the project's catalogue alone holds them."""
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("msgfmt") is None:
        pytest.skip("gettext's msgfmt is not installed (make setup installs it)")
    pending = Path(settings.BASE_DIR, "locale", "km", "LC_MESSAGES", "pending-disclosures.po")
    if not pending.exists():
        return
    target = tmp_path / "km" / "LC_MESSAGES"
    target.mkdir(parents=True)
    header = ('msgid ""\nmsgstr ""\n"Language: km\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
              '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n')
    (target / "django.po").write_text(header + pending.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(target / "django.mo"), str(target / "django.po")], check=True)
    settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]
