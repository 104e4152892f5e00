"""Frameworks: the catalogue of theoretical frameworks, the codes each study gets against
them (study-level categories, and excerpt-level codes of barriers, facilitators and
outcomes with inductive themes), and the verification of that coding.

The catalogue's frameworks have no project; a project that picks one gets its own copy
(`source_key` says which), so a lead renames or retires categories for that project only.
Codes point at Category rows: a renamed category keeps its codes, a retired one keeps them
and stays in the charts, marked.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Project
from references.models import Study


class Framework(models.Model):
    class Rule(models.TextChoices):
        SINGLE = "single", "One category per study"
        MULTIPLE = "multiple", "Several categories per study"
        TEXT = "text", "Free text per category, with tags (WIDER)"
        EXCERPT = "excerpt", "Applied to each barrier, facilitator or outcome excerpt"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="frameworks")  # None: the catalogue
    key = models.SlugField(max_length=60)
    source_key = models.SlugField(max_length=60, blank=True)  # the catalogue entry copied
    name = models.CharField(max_length=200)
    citation = models.TextField(blank=True)
    description = models.TextField(blank=True)
    rule = models.CharField(max_length=10, choices=Rule.choices)
    ordered = models.BooleanField(default=False)  # e.g. IAP2's levels
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)  # a project's framework it stopped using

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="one_framework_key"),
            models.UniqueConstraint(fields=["key"], condition=models.Q(project__isnull=True),
                                    name="one_catalogue_framework_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A category of a framework; `parent` nests (a TDF domain under its COM-B component,
    a WIDER mode-of-delivery tag under its item)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE,
                                  related_name="categories")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children")
    key = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["framework", "key"],
                                               name="one_category_key")]

    def __str__(self) -> str:
        return self.name


class CodingSettings(models.Model):
    """How a project verifies its coding; a lead edits it."""

    class Verify(models.TextChoices):
        ALL = "all", "Every study"
        SAMPLE = "sample", "The first N studies, then a random share"

    project = models.OneToOneField(Project, on_delete=models.CASCADE,
                                   related_name="coding_settings")
    verify = models.CharField(max_length=10, choices=Verify.choices, default=Verify.ALL)
    first_n = models.PositiveIntegerField(default=5)
    share = models.FloatField(default=0.2)  # 0..1 of the studies after the first N
    seed = models.PositiveIntegerField(default=0)  # the random draw is repeatable

    def __str__(self) -> str:
        return f"Coding settings of {self.project}"


class StudyCoding(models.Model):
    """One study's coding: who codes, who verifies, and where it stands."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        CODED = "coded", "Coded"
        VERIFIED = "verified", "Verified"
        DISPUTED = "disputed", "Disputed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    study = models.OneToOneField(Study, on_delete=models.PROTECT, related_name="coding")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    needs_verification = models.BooleanField(default=True)
    status = models.CharField(max_length=12, choices=Status.choices,
                              default=Status.NOT_STARTED)
    coded_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Coding of study {self.study_id} ({self.status})"


class StudyCode(models.Model):
    """A study put in a category (study-level frameworks), with its evidence; for WIDER,
    `text` holds the item's free text."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="framework_codes")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="study_codes")
    text = models.TextField(blank=True)
    note = models.TextField(blank=True)
    quote = models.TextField(blank=True)
    page = models.CharField(max_length=40, blank=True)
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "category"],
                                               name="one_study_code_per_category")]

    def __str__(self) -> str:
        return f"Study {self.study_id}: {self.category}"


class Theme(models.Model):
    """An inductive label for barriers, facilitators or outcomes, created while coding. A
    merged theme points at the theme it was merged into; its excerpts move there."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Excerpt(models.Model):
    """A quotation from a study (its full text, or an extracted answer), marked as a
    barrier, facilitator or outcome and coded against the excerpt-level frameworks."""

    class Kind(models.TextChoices):
        BARRIER = "barrier", "Barrier"
        FACILITATOR = "facilitator", "Facilitator"
        OUTCOME = "outcome", "Outcome"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="excerpts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.TextField()
    page = models.CharField(max_length=40, blank=True)
    # Where it was quoted from when it came from an extraction (an extraction.Answer id).
    answer_id = models.BigIntegerField(null=True, blank=True)
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="excerpts")
    categories = models.ManyToManyField(Category, related_name="excerpts", blank=True)
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of study {self.study_id}: {self.text[:60]}"


class Verification(models.Model):
    """A verifier's answer to one code (a StudyCode or an Excerpt): agree, or propose a
    change with a comment; a proposal is settled by the coder or a lead."""

    class Decision(models.TextChoices):
        AGREE = "agree", "Agree"
        PROPOSE = "propose", "Propose a change"

    class Outcome(models.TextChoices):
        OPEN = "open", "Waiting to be settled"
        ACCEPTED = "accepted", "Change accepted"
        REJECTED = "rejected", "Change rejected"

    coding = models.ForeignKey(StudyCoding, on_delete=models.CASCADE,
                               related_name="verifications")
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="+")
    study_code = models.ForeignKey(StudyCode, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="verifications")
    excerpt = models.ForeignKey(Excerpt, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="verifications")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    proposal = models.JSONField(null=True, blank=True)  # e.g. {"categories": [keys]}
    comment = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on study {self.coding.study_id}"
