"""Keyset pagination by id: a page after or before a given id, fast at any depth (an
OFFSET of 90,000 rows would read them all)."""

from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass
class KeysetPage:
    items: list
    first: int | None
    last: int | None
    more_before: bool
    more_after: bool
    query: str  # the request's other parameters (filters), for the previous/next links


def keyset_page(request, queryset: QuerySet, size: int = 50) -> KeysetPage:
    """The page of `queryset` (ordered by id) that `?after=` or `?before=` asks for."""
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    if before.isdigit():
        items = list(queryset.filter(id__lt=int(before)).order_by("-id")[:size + 1])
        more_before = len(items) > size
        items = items[:size][::-1]
        more_after = True
    else:
        if after.isdigit():
            queryset = queryset.filter(id__gt=int(after))
        items = list(queryset.order_by("id")[:size + 1])
        more_after = len(items) > size
        items = items[:size]
        more_before = after.isdigit()
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return KeysetPage(items, items[0].pk if items else None, items[-1].pk if items else None,
                      more_before, more_after, query.urlencode())
