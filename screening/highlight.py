"""Highlighting of include and exclude terms in imported text, which stays escaped."""

import re
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def terms(text: str) -> tuple[str, ...]:
    """One term per line (or comma), e.g. 'trainee*' or 'graduate student*'."""
    return tuple(t.strip() for t in re.split(r"[\n,]", text or "") if t.strip())


@lru_cache(maxsize=64)
def _pattern(include: tuple[str, ...], exclude: tuple[str, ...]) -> re.Pattern | None:
    parts = []
    for group, words in (("inc", include), ("exc", exclude)):
        alternatives = [re.escape(w).replace(r"\*", r"\w*") for w in words]
        if alternatives:
            parts.append(rf"(?P<{group}>\b(?:{'|'.join(alternatives)})\b)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def highlight(text: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> SafeString:
    """`text` escaped, with include terms in <mark class="term-include"> and exclude terms in
    <mark class="term-exclude"> (case-insensitive, * matches any word ending)."""
    pattern = _pattern(include, exclude)
    if pattern is None:
        return escape(text)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        kind = "include" if match.lastgroup == "inc" else "exclude"
        out.append(f'<mark class="term-{kind}">{escape(match.group())}</mark>')
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped above
