"""{% prisma_figure_svg project flow %}: the PRISMA diagram as inline SVG whose numbers link
to their record lists (conflict lists only for leads: they show where votes disagree)."""

from django import template
from django.utils.safestring import mark_safe

from reports.prisma_svg import render_svg
from reports.prisma_views import linker_for

register = template.Library()


@register.simple_tag
def prisma_figure_svg(project, flow):
    # Safe: render_svg escapes every text that came from the data.
    return mark_safe(render_svg(flow, link=linker_for(project)))  # noqa: S308
