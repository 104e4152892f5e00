from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self) -> None:
        # A person's merge of screened records carries their decisions (references calls
        # back: it cannot import a later stage).
        from references import holds

        from . import merges

        holds.on_merge(merges.carry_decisions)
