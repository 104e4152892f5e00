from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Project
from screening.models import Stage


class RankingState(models.Model):
    """The retraining of one stage's order: how many decision events came in since the last
    training started, and whether a training is queued or running (`token` not blank). A
    training is queued only by whoever sets the token on a row that has none (one
    conditional UPDATE), and the token is cleared only by the training that holds it, so
    at most one is queued or running per project and stage."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    pending = models.PositiveIntegerField(default=0)  # decision events since the last start
    order_changed = models.BooleanField(default=False)  # the lead changed order or seed
    token = models.CharField(max_length=40, blank=True)  # the queued or running training
    queued_at = models.DateTimeField(null=True, blank=True)
    # The last training's length and end: the next one waits RANKING_COOLDOWN x its length
    # after it, so that retraining takes a bounded share of the machine's time.
    last_seconds = models.FloatField(default=0, db_default=0)
    last_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "stage"], name="one_ranking_state"),
        ]

    def __str__(self) -> str:
        return f"Ranking of {self.project} · {self.get_stage_display()}"


class Training(models.Model):
    """One run of the retraining: what it learnt from, what it wrote and how long it took
    (or why it failed)."""

    class Outcome(models.TextChoices):
        SCORED = "scored", "Relevance scores written"
        RANDOM = "random", "Random order written"
        TOO_FEW = "too_few", "Too few decisions to learn from"
        IMPORT = "import", "Import order: nothing to write"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    records = models.PositiveIntegerField(default=0)
    includes = models.PositiveIntegerField(default=0)
    excludes = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)  # Priority rows written
    seconds_features = models.FloatField(default=0)
    seconds_model = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "stage", "-started_at"],
                                name="training_latest")]

    def __str__(self) -> str:
        return f"Training of {self.project} · {self.stage} at {self.started_at:%Y-%m-%d %H:%M}"


class StoppingSample(models.Model):
    """A random sample of the records nobody had voted on when it was drawn, served before
    every other fresh record: the stopping estimate needs records screened at random."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    remaining = models.PositiveIntegerField()  # records nobody had voted on, when drawn
    found_before = models.PositiveIntegerField()  # records included then (settled)
    record_ids = models.JSONField(default=list)
    seed = models.PositiveIntegerField()
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    drawn_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Sample of {len(self.record_ids)} records ({self.drawn_at:%Y-%m-%d})"


class EarlyStop(models.Model):
    """A lead ended screening of a stage early: the records nobody had voted on were marked
    "excluded by stopping rule" (removed before screening as ineligible by automation
    tools, as PRISMA counts them), with the lead's note and the method's figures.
    Undone by putting back the records that are still so marked."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    note = models.TextField()
    figures = models.JSONField(default=dict)
    record_ids = models.JSONField(default=list)
    stopped_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    stopped_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Screening ended early ({self.stopped_at:%Y-%m-%d}): {len(self.record_ids)} records"
