import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Project(models.Model):
    class ReviewType(models.TextChoices):
        SYSTEMATIC = "systematic", "Systematic review"
        SCOPING = "scoping", "Scoping review"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    review_type = models.CharField(
        max_length=20, choices=ReviewType.choices, default=ReviewType.SYSTEMATIC
    )
    inclusion_criteria = models.TextField(
        blank=True, help_text="Shown beside every screening decision."
    )
    exclusion_criteria = models.TextField(
        blank=True, help_text="Shown beside every screening decision."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Ordered from least to most: a higher role can do everything a lower one can."""

    VIEWER = "viewer", "Viewer"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


ROLE_RANK = {Role.VIEWER: 1, Role.REVIEWER: 2, Role.LEAD: 3}

ROLE_HELP = {
    Role.LEAD: "configures the project, manages the team, resolves conflicts",
    Role.REVIEWER: "screens, extracts and codes",
    Role.VIEWER: "reads progress and downloads reports",
}


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.project}"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def job_result_path(job: "Job", filename: str) -> str:
    """One folder per job, so a report keeps its own name when downloaded."""
    return f"jobs/{job.project_id}/{job.pk}/{filename}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


INVITATION_LIFETIME = timedelta(days=14)


class Invitation(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REVIEWER)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.project}"

    @property
    def expires_at(self):
        return self.created_at + INVITATION_LIFETIME

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and timezone.now() < self.expires_at
        )


class AuditEvent(models.Model):
    """One change that matters: who, when, in which project, what, and before/after."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=60, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # A sealed event is listed to its own actor only (e.g. a vote before its record settles,
    # so a lead who also screens cannot read it); `audit.unseal` opens it to the project.
    sealed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="audit_project_recent"),
            models.Index(fields=["project", "action"], name="audit_project_action"),
            # A record's history, and unsealing a target's events, read by target.
            models.Index(fields=["project", "target_type", "target_id"],
                         name="audit_project_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_repr}"


class Job(models.Model):
    """A piece of long work run by a Celery worker. The row is the truth about its state."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    task_name = models.CharField(max_length=100)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    result_file = models.FileField(upload_to=job_result_path, blank=True, max_length=300)
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written when a worker claims the job and at every progress report: a running job whose
    # heartbeat is older than JOB_STALE_AFTER lost its worker (see jobs.sweep_stale_jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="job_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))
