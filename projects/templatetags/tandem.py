from django import template
from django.urls import reverse

from projects.models import Role

register = template.Library()

# The project navigation follows the review pipeline; (url name, label, role needed to see it).
PIPELINE = [
    ("overview", "Overview", Role.VIEWER),
    ("references", "References", Role.VIEWER),
    ("screening", "Screening", Role.VIEWER),
    ("fulltext", "Full text", Role.VIEWER),
    ("extraction", "Extraction", Role.VIEWER),
    ("coding", "Coding", Role.VIEWER),
    ("reports", "Reports", Role.VIEWER),
    ("team", "Team", Role.VIEWER),
    ("settings", "Settings", Role.LEAD),
    ("activity", "Activity", Role.LEAD),
]


@register.inclusion_tag("includes/project_nav.html")
def project_nav(project, section: str = "overview"):
    items = [
        {
            "label": label,
            "url": reverse(f"projects:{name}", args=[project.slug]),
            "active": name == section,
        }
        for name, label, role in PIPELINE
        if project.membership.has_role(role)
    ]
    return {"project": project, "items": items}
