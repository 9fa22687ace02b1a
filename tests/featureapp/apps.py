from django.apps import AppConfig


class FeatureAppConfig(AppConfig):
    name = "tests.featureapp"
    label = "featureapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt import features

        features.register_urls(prefix="test-feature/", module="tests.featureapp.urls")
        features.register_nav_links(features.NavLink("featureapp:notices", "Notices (test)"))

        from clients.sections import register_case_file_section
        from tests.featureapp.sections import notices_section

        register_case_file_section(notices_section, order=900)
