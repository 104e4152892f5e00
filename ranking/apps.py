from django.apps import AppConfig


class RankingConfig(AppConfig):
    """Prioritised screening: a model that learns from a stage's decisions and writes the
    order records are served in (screening.models.Priority), the statistical stopping aid,
    and ending a stage early by a stopping rule. Reads earlier apps; none imports it."""

    name = "ranking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from screening.signals import decisions_changed

        from . import jobs  # noqa: F401  (job kinds register themselves)
        from .services import on_decisions_changed

        decisions_changed.connect(on_decisions_changed, dispatch_uid="ranking.retrain")
