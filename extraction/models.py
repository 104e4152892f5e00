"""Extraction: a form the lead designs (sections and fields, versioned), extractions of each
included study by one or two reviewers, and the consensus that settles them.

Values never hang on a field's words: an answer points at the Field row (a stable `key` too,
for JSON import/export), so renaming or moving a field keeps its values; a removed field or
choice is archived, never deleted, with its answers. A form's definition at any time is a
FormVersion (a JSON snapshot); each extraction records the version it was made on.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Project
from references.models import Study


class ExtractionSettings(models.Model):
    """How a project extracts; a lead edits it."""

    class Mode(models.TextChoices):
        DUAL = "dual", "Dual: two reviewers extract each study independently"
        SINGLE = "single", "Single: one reviewer extracts each study"

    class ConsensusBy(models.TextChoices):
        LEADS = "leads", "Leads"
        THIRD = "third", "Leads and a designated third reviewer"
        PAIR = "pair", "Leads, the third reviewer, and either extractor of the study"

    project = models.OneToOneField(Project, on_delete=models.CASCADE,
                                   related_name="extraction_settings")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DUAL)
    consensus_by = models.CharField(max_length=10, choices=ConsensusBy.choices,
                                    default=ConsensusBy.LEADS)
    third_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+")
    # The pilot: agreement every field must reach before the main round may start (0..1;
    # None: no threshold), and whether the main round has started.
    pilot_threshold = models.FloatField(null=True, blank=True)
    main_round_started = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Extraction settings of {self.project}"


class Form(models.Model):
    """The project's extraction form (one per project). Its live definition is its sections
    and fields; `version` is the number of the current FormVersion."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE,
                                   related_name="extraction_form")
    name = models.CharField(max_length=200, default="Data extraction form")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class FormVersion(models.Model):
    """The whole definition of a form at one version, as the JSON document export_form
    writes (see extraction.schema). A new version is made by every saved change to a form
    that has data on its current version."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["form", "number"]
        constraints = [models.UniqueConstraint(fields=["form", "number"],
                                               name="one_form_version_number")]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"


class Section(models.Model):
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=40)  # stable across renames, moves and versions
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "key"],
                                               name="one_section_key_per_form")]

    def __str__(self) -> str:
        return self.title


class Field(models.Model):
    """One question of the form. A table field's columns are fields whose `parent` is it
    (simple types only). Choices are a list of {"key", "label", "archived"}: answers store the
    keys, so renaming a choice keeps its answers and removing one archives it."""

    class Type(models.TextChoices):
        SHORT_TEXT = "short_text", "Short text"
        LONG_TEXT = "long_text", "Long text"
        INTEGER = "integer", "Whole number"
        DECIMAL = "decimal", "Decimal"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTI_CHOICE = "multi_choice", "Multiple choice"
        YES_NO = "yes_no", "Yes / no / unclear"
        DATE = "date", "Date"
        COUNTRY = "country", "Country"
        TABLE = "table", "Repeating table"

    class Display(models.TextChoices):
        RADIO = "radio", "Radio buttons"
        LIST = "list", "Drop-down list"

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="fields",
                                null=True, blank=True)  # None for a table's columns
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="columns")
    key = models.CharField(max_length=40)  # stable across renames, moves and versions
    label = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=Type.choices)
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    unit = models.CharField(max_length=40, blank=True)  # decimal fields
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.RADIO)
    choices = models.JSONField(default=list, blank=True)
    other_specify = models.BooleanField(default=False)  # choice fields: "other, specify"
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="one_field_key_per_form"),
            models.CheckConstraint(condition=models.Q(section__isnull=False)
                                   | models.Q(parent__isnull=False),
                                   name="field_in_a_section_or_a_table"),
        ]

    def __str__(self) -> str:
        return self.label


class Round(models.TextChoices):
    PILOT = "pilot", "Pilot"
    MAIN = "main", "Main round"


class Assignment(models.Model):
    """A reviewer extracts a study in a round (dual mode: two per study)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    round = models.CharField(max_length=10, choices=Round.choices, default=Round.MAIN)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "round", "reviewer"],
                                               name="one_extraction_assignment")]
        indexes = [models.Index(fields=["project", "round", "reviewer"],
                                name="extraction_assignment_who")]

    def __str__(self) -> str:
        return f"Study {self.study_id} → {self.reviewer} ({self.round})"


class Extraction(models.Model):
    """One reviewer's extraction of one study in one round, or (role CONSENSUS) the settled
    values of a study: the study's data. The row is the lock for its answers."""

    class Role(models.TextChoices):
        EXTRACTOR = "extractor", "Extraction"
        CONSENSUS = "consensus", "Consensus"

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        COMPLETE = "complete", "Complete"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="extractions")
    round = models.CharField(max_length=10, choices=Round.choices, default=Round.MAIN)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EXTRACTOR)
    # The extractor; for a consensus, who last worked on it.
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "round", "reviewer"],
                                    condition=models.Q(role="extractor"),
                                    name="one_extraction_per_extractor"),
            models.UniqueConstraint(fields=["study", "round"],
                                    condition=models.Q(role="consensus"),
                                    name="one_consensus_per_study"),
        ]
        indexes = [models.Index(fields=["project", "round", "role"], name="extraction_role")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of study {self.study_id} ({self.round})"


class Answer(models.Model):
    """One field's value in one extraction, with its evidence. `value` by type: text as a
    string, numbers as strings of their digits (no float rounding), a choice as its key, a
    multiple choice as a list of keys, yes/no/unclear as "yes"/"no"/"unclear", a date as
    YYYY-MM-DD, a country as its ISO 3166 alpha-2 code, a table as a list of rows
    ({column key: value}); `other` holds the "other, specify" text."""

    class Source(models.TextChoices):
        """Where a consensus value came from."""

        AGREED = "agreed", "Both extractors agreed"
        FIRST = "first", "First extractor's answer"
        SECOND = "second", "Second extractor's answer"
        EDITED = "edited", "Edited by the consensus maker"

    extraction = models.ForeignKey(Extraction, on_delete=models.CASCADE, related_name="answers")
    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField(null=True, blank=True)
    other = models.TextField(blank=True)
    quote = models.TextField(blank=True)
    page = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    note = models.TextField(blank=True)  # the consensus maker's note
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["extraction", "field"],
                                               name="one_answer_per_field")]

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}"
