from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Project
from references.models import Record


class Stage(models.TextChoices):
    TITLE_ABSTRACT = "title_abstract", "Title and abstract"
    FULL_TEXT = "full_text", "Full text"


class Decision(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


# The full-text exclusion reasons of the review in ../shared/reference (the lead edits them).
DEFAULT_EXCLUSION_REASONS = [
    "Wrong design",
    "Author not a trainee",
    "Partnership approach not described",
    "Not health research",
    "Wrong publication type",
    "Duplicate report",
]


class Order(models.TextChoices):
    RELEVANCE = "relevance", "Most likely relevant first (import order until it can learn)"
    RANDOM = "random", "Random (seeded)"
    IMPORT = "import", "Import order"


class StageSettings(models.Model):
    """How one stage of one project is screened; a lead edits it."""

    class Resolver(models.TextChoices):
        LEADS = "leads", "Leads only"
        NON_VOTERS = "non_voters", "Any member who did not vote on the record"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stage_settings")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewers_needed = models.PositiveSmallIntegerField(default=2)
    allow_maybe = models.BooleanField(default=True)
    resolver = models.CharField(max_length=20, choices=Resolver.choices, default=Resolver.LEADS)
    include_terms = models.TextField(blank=True, help_text="One per line; * is a wildcard.")
    exclude_terms = models.TextField(blank=True, help_text="One per line; * is a wildcard.")
    # The order fresh records are served in (records someone has voted on always come first,
    # so that every record started gets all its votes). Relevance and random are scores the
    # ranking app writes into Priority; until it has (relevance needs 5 includes and 5
    # excludes), records come in import order.
    order = models.CharField(max_length=20, choices=Order.choices, default=Order.RELEVANCE,
                             db_default=Order.RELEVANCE,
                             verbose_name="Order records are served in")
    order_seed = models.PositiveIntegerField(
        default=1, db_default=1, verbose_name="Seed of the random order",
        help_text="The same seed gives the same order; used by the random order only.")
    # Which order the stage's Priority rows hold now ("" none): the queue serves by score
    # only when this equals `order`. Written by the ranking app, never by the form.
    scores_order = models.CharField(max_length=20, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "stage"], name="one_settings_per_stage"),
            models.CheckConstraint(condition=models.Q(reviewers_needed__gte=1,
                                                      reviewers_needed__lte=3),
                                   name="reviewers_needed_1_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_stage_display()}"


class ExclusionReason(models.Model):
    """A reason records are excluded for at one stage of one project (PRISMA reports the
    full-text ones). Votes and outcomes point at the row, not at its words: renaming a reason
    keeps its votes and counts, and a retired reason (not active) is no longer offered for
    new votes but still counted."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)  # the order reviewers see
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "stage", "label"],
                                    name="one_reason_per_label"),
        ]

    def __str__(self) -> str:
        return self.label


class Screening(models.Model):
    """One record at one stage: its votes so far and, once settled, the outcome.

    The row is the lock: every vote, resolution and reopening takes it FOR UPDATE, so a
    record never gets more votes than needed and is settled exactly once."""

    class State(models.TextChoices):
        PENDING = "pending", "Needs votes"
        CONFLICT = "conflict", "Conflict"
        INCLUDED = "included", "Included"
        EXCLUDED = "excluded", "Excluded"
        # Full text only: the full text could not be obtained, so the record is not
        # assessed (PRISMA's "reports not retrieved"). Set by marking it, never by votes.
        NOT_RETRIEVED = "not_retrieved", "Full text not retrieved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="screenings")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    votes_in = models.PositiveSmallIntegerField(default=0)
    # When excluded at full text.
    reason = models.ForeignKey(ExclusionReason, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="screenings")
    note = models.TextField(blank=True)  # the resolver's note
    settled_at = models.DateTimeField(null=True, blank=True)
    # Who settled a conflict; None when the votes agreed.
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="one_screening_per_stage"),
            # Not retrieved is a full-text state that no vote led to.
            models.CheckConstraint(condition=~models.Q(state="not_retrieved")
                                   | models.Q(stage="full_text", votes_in=0),
                                   name="not_retrieved_at_full_text_without_votes"),
        ]
        indexes = [
            models.Index(fields=["project", "stage", "state"], name="screening_state"),
            # The screen's queue: records still open, in record order, without walking the
            # settled ones; and the highest record that has a row (where fresh records start).
            models.Index(fields=["project", "stage", "record"], name="screening_open",
                         condition=models.Q(state="pending")),
            models.Index(fields=["project", "stage", "record"], name="screening_order"),
        ]

    def __str__(self) -> str:
        # Not the record's title: this names the audit event of every vote, and loading the
        # record (abstract and all) there would cost a query on the hottest path.
        return f"Record #{self.record_id} · {self.get_stage_display()} · {self.get_state_display()}"

    @property
    def is_settled(self) -> bool:
        return self.state in (self.State.INCLUDED, self.State.EXCLUDED)


class Priority(models.Model):
    """Where a record stands in a stage's served order: the higher the score, the sooner it
    is served. Written in bulk by the ranking app (relevance predicted by its model, or a
    seeded random number; a stopping sample above both), read by the queue; only records
    nobody had voted on when the scores were written have a row."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="one_priority_per_stage"),
        ]
        indexes = [
            # The queue's walk: highest score first within a stage.
            models.Index(models.F("project"), models.F("stage"), models.F("score").desc(),
                         models.F("record"), name="priority_order"),
        ]

    def __str__(self) -> str:
        return f"Record #{self.record_id}: {self.score:.3f}"


class Vote(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="votes")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.ForeignKey(ExclusionReason, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="votes")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["screening", "reviewer"], name="one_vote_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.decision}"


class Claim(models.Model):
    """A reviewer has a record open on the screen (or fetched ahead). While a claim is alive,
    other reviewers are given other records, so that twenty people screening at once do not
    all read the same record and race for its votes. A claim only steers who is shown what:
    the vote itself is checked under the Screening row lock, claim or not."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="claims")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["screening", "reviewer"],
                                    name="one_claim_per_reviewer"),
        ]
        indexes = [models.Index(fields=["reviewer", "expires_at"], name="claim_reviewer")]

    def __str__(self) -> str:
        return f"{self.reviewer} has record #{self.screening.record_id} open"


class QueuePosition(models.Model):
    """How far a reviewer's queue has gone at a stage: the highest record it handed them
    fresh (see screening.queries). Records below it all have a Screening row."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    frontier = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "stage", "reviewer"],
                                    name="one_queue_position"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} at record #{self.frontier}"


def full_text_path(full_text: "FullText", filename: str) -> str:
    return f"fulltext/{full_text.project_id}/{full_text.record_id}/{filename}"


class FullText(models.Model):
    """The full text of a record: a PDF (stored privately, served only to members), a link
    and a note. That it could not be obtained is the record's full-text Screening state
    (NOT_RETRIEVED), not a field here, so the full-text states partition the records."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="full_text")
    pdf = models.FileField(upload_to=full_text_path, blank=True, max_length=300)
    url = models.URLField(blank=True, max_length=1000)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Full text of {self.record}"


class Assignment(models.Model):
    """A record given to chosen reviewers at a stage (pairs or batches). A record with
    assignments is screened by those reviewers only; one without is open to everyone."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage", "reviewer"],
                                    name="one_assignment_per_reviewer"),
        ]
        indexes = [models.Index(fields=["project", "stage", "reviewer"], name="assignment_who")]

    def __str__(self) -> str:
        return f"{self.record} → {self.reviewer}"
