from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """PRISMA flow diagram, exports, the project archive and the overview. Reads every
    earlier app; no earlier app imports it."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Job kinds register themselves when their module is imported.
        from . import jobs  # noqa: F401
