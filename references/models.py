from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Project


class Source(models.Model):
    """One import: a database search export or another source, as PRISMA counts them."""

    class Kind(models.TextChoices):
        # PRISMA 2020's identification: databases, registers, and other methods.
        DATABASE = "database", "Database"
        REGISTER = "register", "Register (e.g. a trial registry)"
        OTHER = "other", "Other methods (websites, organisations, citation searching…)"

    class Method(models.TextChoices):
        """Which of PRISMA's other methods (only for kind OTHER)."""

        WEBSITES = "websites", "Websites"
        ORGANISATIONS = "organisations", "Organisations"
        CITATIONS = "citation_searching", "Citation searching"
        OTHER = "other", "Other (e.g. experts)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=200, help_text="e.g. MEDLINE (Ovid), Embase, CINAHL (EBSCO)")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DATABASE)
    method = models.CharField(max_length=30, choices=Method.choices, blank=True)
    # PRISMA's other-methods column starts at "reports sought for retrieval": records of such
    # a source skip title and abstract screening.
    starts_at_full_text = models.BooleanField(
        default=False, help_text="Skip title and abstract screening (other methods only).")
    date_searched = models.DateField(null=True, blank=True)
    search_strategy = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=20, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["imported_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="other") | models.Q(method="", starts_at_full_text=False),
                name="source_method_only_for_other"),
        ]

    def __str__(self) -> str:
        return self.name


class Study(models.Model):
    """A study: one or more reports (records). Every record starts as its own study."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="studies")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"Study {self.pk}"


class Record(models.Model):
    """One bibliographic record as a source gave it. Never deleted by deduplication: a
    duplicate points at its primary, so every count can be traced and every merge undone."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="records")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="records")
    source_position = models.PositiveIntegerField()
    source_line = models.PositiveIntegerField(null=True, blank=True)
    source_record_id = models.CharField(max_length=255, blank=True)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=100, blank=True)
    pages = models.CharField(max_length=100, blank=True)
    doi = models.CharField(max_length=255, blank=True, db_index=True)
    pmid = models.CharField(max_length=40, blank=True, db_index=True)
    other_ids = models.JSONField(default=dict, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=100, blank=True)
    url = models.TextField(blank=True)
    publication_type = models.CharField(max_length=100, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="records")
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    # Who merged it (None: the automatic deduplication) and when.
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # Later stages' decisions on this record (references.holds.Hold bits): a held record is
    # never merged automatically.
    hold = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Removed before screening (PRISMA: "marked as ineligible by automation tools" or
    # "removed for other reasons"); blank while the record is in the flow.
    removed_reason = models.CharField(max_length=20, choices=[
        ("automation", "Marked ineligible by automation tools"),
        ("other", "Removed for other reasons")], blank=True, db_default="")
    removed_note = models.TextField(blank=True, db_default="")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_position"],
                                    name="record_position_in_source"),
            models.CheckConstraint(condition=~models.Q(duplicate_of=models.F("id")),
                                   name="record_not_its_own_duplicate"),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="record_project_id"),
            models.Index(fields=["project", "duplicate_of"], name="record_project_dup"),
            models.Index(fields=["project", "source"], name="record_project_source"),
            # The records in the flow, with what the stage filter needs: listing a stage's
            # record ids (a ranking training, at 100,000 records) is an index-only scan
            # instead of a walk through the whole table, abstracts and all, which pushed the
            # pages the screening queries need out of PostgreSQL's buffer cache.
            models.Index(fields=["project", "id", "source"], name="record_in_flow",
                         condition=models.Q(duplicate_of__isnull=True, removed_reason="")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title[:80] or '(no title)'}"

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""

    @property
    def is_unusable(self) -> bool:
        return not self.title.strip() and not self.abstract.strip()


class DuplicateCandidate(models.Model):
    """A pair the deduplication found possibly duplicate, or a pair a person decided on."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        DUPLICATE = "duplicate", "Duplicate"
        NOT_DUPLICATE = "not_duplicate", "Not a duplicate"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    record_a = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    # The rule that sent the pair to a person (a key of references.dedup.RULES, or "held",
    # "changed", "unmerged"): the queue says it as a sentence and groups pairs by it.
    rule = models.CharField(max_length=40, blank=True, default="", db_default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The group decision this pair was decided in (None: decided on its own, or pending).
    decided_in = models.ForeignKey("DuplicateDecisionBatch", on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="pairs")
    # What a confirmed merge moved, so it can be undone exactly:
    # {record id: [its duplicate_of before, its study before]}.
    moved = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="one_candidate_per_pair"),
            models.CheckConstraint(condition=models.Q(record_a__lt=models.F("record_b")),
                                   name="candidate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["project", "status"], name="candidate_project_status")]

    def __str__(self) -> str:
        return f"#{self.record_a_id} ~ #{self.record_b_id} ({self.status})"


class DuplicateDecisionBatch(models.Model):
    """A lead's decision on a whole group of similar pending pairs (one signature, see
    references.diff): every pair goes through the one-pair decision, and the group can be
    undone as a whole, its pairs going back to pending."""

    class Decision(models.TextChoices):
        DUPLICATE = "duplicate", "Merge all (keep the earlier record of each)"
        NOT_DUPLICATE = "not_duplicate", "Keep all apart"

    class Status(models.TextChoices):
        DECIDING = "deciding", "Being applied"
        DECIDED = "decided", "Applied"
        UNDOING = "undoing", "Being undone"
        UNDONE = "undone", "Undone"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    signature = models.CharField(max_length=500)  # the group's key (diff.Signature.key)
    description = models.TextField(blank=True)  # the group as the lead saw it
    pair_ids = models.JSONField(default=list)  # the pairs the lead reviewed and decided
    # Pairs not decided (decided meanwhile, changed since), [{"pair": id, "reason": text}].
    skipped = models.JSONField(default=list, blank=True)
    undo_skipped = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DECIDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Group decision #{self.pk}: {self.get_decision_display()} ({len(self.pair_ids)})"
