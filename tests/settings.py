"""Test settings: the real ones, plus a test-only app, fresh random keys, and speed."""

import base64
import os

os.environ.setdefault("CASEMGMT_DEVELOPMENT", "1")

from casemgmt.settings import *  # noqa: E402,F403
from casemgmt.settings import INSTALLED_APPS  # noqa: E402


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


INSTALLED_APPS = [*INSTALLED_APPS, "tests.cryptotest", "tests.featureapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

CASEMGMT_KEY_FILE = None
CASEMGMT_KEKS = f"test-kek-1:{_key()}"
CASEMGMT_ACTIVE_KEK = "test-kek-1"
CASEMGMT_INDEX_KEYS = f"test-idx-1:{_key()}"
CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-1"
CASEMGMT_AUDIT_KEY = _key()

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.postgresql_backend"  # noqa: F405 - flushes past the TRUNCATE trigger
# Each test writes its audit checkpoints to a file of its own (tests/conftest.py), never to var/.
CASEMGMT_AUDIT_CHECKPOINT_FILE = None
