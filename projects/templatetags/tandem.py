from django import template
from django.urls import reverse

from projects.models import Role

register = template.Library()

# The project navigation follows the review pipeline:
# (section, url name, label, role needed to see it).
PIPELINE = [
    ("overview", "reports:overview", "Overview", Role.VIEWER),
    ("references", "references:list", "References", Role.VIEWER),
    ("screening", "screening:title_abstract", "Screening", Role.VIEWER),
    ("fulltext", "screening:full_text", "Full text", Role.VIEWER),
    ("extraction", "extraction:home", "Extraction", Role.VIEWER),
    ("coding", "frameworks:home", "Coding", Role.VIEWER),
    ("reports", "reports:home", "Reports", Role.VIEWER),
    ("team", "projects:team", "Team", Role.VIEWER),
    ("settings", "projects:settings", "Settings", Role.LEAD),
    ("activity", "projects:activity", "Activity", Role.LEAD),
]


@register.inclusion_tag("includes/project_nav.html")
def project_nav(project, section: str = "overview"):
    items = [
        {
            "label": label,
            "url": reverse(url_name, args=[project.slug]),
            "active": name == section,
        }
        for name, url_name, label, role in PIPELINE
        if project.membership.has_role(role)
    ]
    return {"project": project, "items": items}
