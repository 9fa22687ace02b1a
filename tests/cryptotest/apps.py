from django.apps import AppConfig


class CryptotestConfig(AppConfig):
    name = "tests.cryptotest"
    label = "cryptotest"
    default_auto_field = "django.db.models.BigAutoField"
