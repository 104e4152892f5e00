"""The background jobs of the reports app (exports, the project archive and its import).
Each kind registers itself here, with the role it needs (projects.jobs.register_kind)."""

from . import archive_jobs, export_jobs  # noqa: F401
