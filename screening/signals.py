"""What later apps may listen to without screening knowing them.

`decisions_changed` is sent after a transaction that changed a stage's decisions commits
(votes cast, changed or undone, conflicts resolved, outcomes reopened) or the lead changed
the order records are served in; never inside the transaction, so a listener that starts
work sees the committed rows, and a rolled-back vote sends nothing. Keyword arguments:
`project_id`, `stage`, `n` (how many decision events) and `order_changed`."""

from django.db import transaction
from django.dispatch import Signal

decisions_changed = Signal()


def after_commit(project_id: int, stage: str, *, n: int = 1, order_changed: bool = False) -> None:
    transaction.on_commit(lambda: decisions_changed.send(
        sender=None, project_id=project_id, stage=stage, n=n, order_changed=order_changed))
