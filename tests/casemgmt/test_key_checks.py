"""Key configuration (docs/encryption.md): a missing or wrong key is a clear start-up error, never garbage."""

from __future__ import annotations

import base64
import io
import json
import os
import stat

import pytest
from django.core.checks import Error, run_checks
from django.core.management import CommandError, call_command

from casemgmt import crypto
from casemgmt.encryption import checks
from casemgmt.models import DataKey
from tests.cryptotest.models import Person

pytestmark = pytest.mark.django_db


def key_checks() -> list[Error]:
    return run_checks(tags=["casemgmt"])


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def text(errors) -> str:
    return " ".join(f"{error.msg} {error.hint or ''}" for error in errors)


def configured_key_material(settings) -> list[str]:
    material = [settings.CASEMGMT_AUDIT_KEY]
    for setting in (settings.CASEMGMT_KEKS, settings.CASEMGMT_INDEX_KEYS):
        material += [pair.partition(":")[2] for pair in (setting or "").split(",") if pair]
    return [m for m in material if m]


def assert_no_key_material(errors, *extra: str) -> None:
    message = text(errors)
    for material in [*extra]:
        assert material not in message
        assert material[:12] not in message


@pytest.fixture
def stored_data_keys():
    row = Person(given_name="Check", family_name="Keys")
    row.save()
    return row


def test_a_sound_configuration_passes(stored_data_keys):
    assert key_checks() == []
    assert checks.keys_configured() == [] and checks.keys_unwrap_stored_data_keys() == []


def test_the_checks_are_registered_for_start_up():
    assert key_checks() == []
    from django.core.checks.registry import registry

    registered = registry.get_checks()
    assert checks.keys_configured in registered
    assert checks.keys_unwrap_stored_data_keys in registered


# --------------------------------------------------------------------------------------------
# E001: keys missing or malformed


@pytest.mark.parametrize("value", ["", None])
def test_no_kek_is_e001(settings, value):
    settings.CASEMGMT_KEKS = value

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert "No key-encryption key" in errors[0].msg
    assert "CASEMGMT_KEKS" in errors[0].hint


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("CASEMGMT_KEKS", "test-kek-1:this is not base64!", "is not valid base64"),
        ("CASEMGMT_KEKS", "test-kek-1:c2hvcnQ=", "must be 32 bytes"),  # base64 of b"short"
        ("CASEMGMT_KEKS", f"test-kek-1:{base64.b64encode(os.urandom(16)).decode()}", "must be 32 bytes"),
        ("CASEMGMT_KEKS", f"test-kek-1:{base64.b64encode(os.urandom(64)).decode()}", "must be 32 bytes"),
        ("CASEMGMT_KEKS", base64.b64encode(os.urandom(32)).decode(), "id:base64-key pairs"),  # no id
        ("CASEMGMT_INDEX_KEYS", "test-idx-1:%%%%", "is not valid base64"),
        ("CASEMGMT_AUDIT_KEY", base64.b64encode(os.urandom(31)).decode(), "must be 32 bytes"),
    ],
    # Fixed ids: the random keys would make every collection differ (pytest -n refuses that), and would put
    # key material in the test names.
    ids=["kek-not-base64", "kek-5-bytes", "kek-16-bytes", "kek-64-bytes", "kek-without-id", "index-key-not-base64",
         "audit-key-31-bytes"],
)
def test_a_malformed_key_is_e001_without_its_material(settings, setting, value, expected):
    setattr(settings, setting, value)

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert expected in errors[0].msg
    material = value.partition(":")[2] if ":" in value else value
    assert_no_key_material(errors, material, *configured_key_material(settings))


def test_a_key_pasted_where_an_id_belongs_is_e001_without_its_material(settings):
    # An operator who writes key:id instead of id:key, or pastes the key as the active id.
    key = base64.b64encode(os.urandom(32)).decode()
    for setting, value in [("CASEMGMT_KEKS", f"{key}:test-kek-1"), ("CASEMGMT_ACTIVE_KEK", key),
                           ("CASEMGMT_INDEX_KEYS", f"{key}:test-idx-1"), ("CASEMGMT_ACTIVE_INDEX_KEY", key)]:
        original = getattr(settings, setting)
        setattr(settings, setting, value)

        errors = key_checks()

        assert ids(errors) == ["casemgmt.E001"], setting
        assert_no_key_material(errors, key, *configured_key_material(settings))
        setattr(settings, setting, original)


def test_an_unconfigured_active_kek_is_e001(settings):
    settings.CASEMGMT_ACTIVE_KEK = "kek-2031"

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert "'kek-2031' is not among the configured ones (test-kek-1)" in errors[0].msg
    assert_no_key_material(errors, *configured_key_material(settings))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("CASEMGMT_ACTIVE_KEK", "No active key-encryption key"), ("CASEMGMT_INDEX_KEYS", "No blind-index key"),
     ("CASEMGMT_ACTIVE_INDEX_KEY", "blind-index key None"), ("CASEMGMT_AUDIT_KEY", "No audit key")],
)
def test_every_other_missing_key_is_e001(settings, setting, expected):
    setattr(settings, setting, None)

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert expected in errors[0].msg


def test_a_missing_key_file_is_e001(settings, tmp_path):
    settings.CASEMGMT_KEY_FILE = str(tmp_path / "absent.json")
    settings.CASEMGMT_KEKS = None

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert "does not exist" in errors[0].msg


def test_a_corrupt_key_file_is_e001(settings, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"version": 1, "keks": {"k": "AAAA"', encoding="utf-8")
    settings.CASEMGMT_KEY_FILE = str(path)

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E001"]
    assert "cannot be read as JSON" in errors[0].msg


# --------------------------------------------------------------------------------------------
# E002 and E003: the configured keys against the stored data keys


def test_a_wrong_kek_under_the_right_id_is_e003(settings, stored_data_keys):
    wrong = crypto.new_key()
    settings.CASEMGMT_KEKS = f"test-kek-1:{wrong}"

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E003"]
    assert "'test-kek-1'" in errors[0].msg and "wrong key" in errors[0].msg
    assert_no_key_material(errors, wrong, *configured_key_material(settings))


def test_a_wrong_kek_is_not_reported_before_any_data_key_exists(settings):
    settings.CASEMGMT_KEKS = f"test-kek-1:{crypto.new_key()}"

    assert key_checks() == []


def test_data_keys_under_an_unconfigured_kek_are_e002(settings, stored_data_keys):
    settings.CASEMGMT_KEKS = f"test-kek-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_KEK = "test-kek-2"

    errors = key_checks()

    assert ids(errors) == ["casemgmt.E002"]
    assert "'test-kek-1', which is not configured" in errors[0].msg
    assert "rotate_keys" in errors[0].hint
    assert_no_key_material(errors, *configured_key_material(settings))


def test_destroyed_data_keys_need_no_kek(settings, stored_data_keys):
    crypto.destroy_data_key(stored_data_keys.pk)
    settings.CASEMGMT_KEKS = f"test-kek-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_KEK = "test-kek-2"

    assert key_checks() == []


def test_an_old_kek_kept_during_rotation_passes(settings, stored_data_keys):
    settings.CASEMGMT_KEKS = f"{settings.CASEMGMT_KEKS},test-kek-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_KEK = "test-kek-2"

    assert key_checks() == []


def test_the_check_command_fails_on_a_key_error(settings, stored_data_keys):
    from django.core.management.base import SystemCheckError

    wrong = crypto.new_key()
    settings.CASEMGMT_KEKS = f"test-kek-1:{wrong}"
    err = io.StringIO()

    with pytest.raises(SystemCheckError) as caught:
        call_command("check", "--tag", "casemgmt", stdout=io.StringIO(), stderr=err)

    assert "casemgmt.E003" in str(caught.value)
    assert wrong not in str(caught.value) + err.getvalue()


# --------------------------------------------------------------------------------------------
# generate_keys


def generate(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_keys", *args, stdout=out)
    return out.getvalue()


def use_key_file(settings, path) -> None:
    settings.CASEMGMT_KEY_FILE = str(path)
    for name in ("CASEMGMT_KEKS", "CASEMGMT_ACTIVE_KEK", "CASEMGMT_INDEX_KEYS", "CASEMGMT_ACTIVE_INDEX_KEY",
                 "CASEMGMT_AUDIT_KEY"):
        setattr(settings, name, None)
    crypto.reset_keyring()


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def file_mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generate_keys_writes_a_private_key_file_that_loads(settings, tmp_path, permissive_umask):
    path = tmp_path / "secrets" / "keys.json"

    output = generate("--output", str(path))

    assert file_mode(path) == 0o600
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content["active_kek"] in output
    for material in [*content["keks"].values(), *content["index_keys"].values(), content["audit_key"]]:
        assert material not in output
    assert list(tmp_path.glob("secrets/*")) == [path]

    use_key_file(settings, path)
    ring = crypto.load_keyring()
    assert ring.active_kek == content["active_kek"]
    assert ring.keks[ring.active_kek] == base64.b64decode(content["keks"][ring.active_kek])
    assert key_checks() == []
    row = Person(given_name="From the key file", family_name="Test")
    row.save()
    crypto.reset_keyring()
    assert Person.objects.get(pk=row.pk).given_name == "From the key file"


def test_generate_keys_refuses_to_overwrite(tmp_path):
    path = tmp_path / "keys.json"
    generate("--output", str(path))
    before = path.read_bytes()

    with pytest.raises(CommandError, match="--rotate"):
        generate("--output", str(path))

    assert path.read_bytes() == before


def test_generate_keys_if_missing_keeps_an_existing_file(tmp_path):
    path = tmp_path / "keys.json"
    generate("--output", str(path))
    before = path.read_bytes()

    assert "nothing to do" in generate("--output", str(path), "--if-missing")
    assert path.read_bytes() == before


def test_generate_keys_rotate_needs_an_existing_file(tmp_path):
    with pytest.raises(CommandError, match="nothing to rotate"):
        generate("--output", str(tmp_path / "absent.json"), "--rotate")
    assert not (tmp_path / "absent.json").exists()


def test_generate_keys_rotate_adds_a_new_active_kek_and_keeps_the_old(settings, tmp_path, permissive_umask):
    path = tmp_path / "keys.json"
    generate("--output", str(path))
    first = json.loads(path.read_text(encoding="utf-8"))
    use_key_file(settings, path)
    row = Person(given_name="Before the rotation", family_name="Test")
    row.save()

    output = generate("--output", str(path), "--rotate")

    second = json.loads(path.read_text(encoding="utf-8"))
    assert file_mode(path) == 0o600
    assert second["active_kek"] != first["active_kek"]
    assert second["active_kek"] in output and "rotate_keys" in output
    assert set(second["keks"]) == {first["active_kek"], second["active_kek"]}
    assert second["keks"][first["active_kek"]] == first["keks"][first["active_kek"]]
    assert (second["index_keys"], second["active_index_key"], second["audit_key"]) == (
        first["index_keys"], first["active_index_key"], first["audit_key"])

    crypto.reset_keyring()
    assert crypto.keyring().active_kek == second["active_kek"]
    assert key_checks() == []
    assert Person.objects.get(pk=row.pk).given_name == "Before the rotation"
    call_command("rotate_keys", stdout=io.StringIO())
    assert DataKey.objects.get(subject_id=row.pk).kek_id == second["active_kek"]
