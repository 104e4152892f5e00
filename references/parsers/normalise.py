"""Small, fast helpers that turn the values of a file into the fields of a ParsedRecord."""

import re
from urllib.parse import unquote

_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2}|2100)(?!\d)")
_DOI = re.compile(r"10\.\d{3,9}/\S+")
_DOI_URL = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/", re.IGNORECASE)
_PMID = re.compile(r"^\d{1,9}$")
_PMCID = re.compile(r"^PMC\d+$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def one_line(value: str) -> str:
    """All runs of white space (line breaks too) as one space, trimmed."""
    if "  " in value or "\n" in value or "\t" in value or "\xa0" in value:
        return _SPACES.sub(" ", value).strip()
    return value.strip()


def year(value: str) -> int | None:
    """The first plausible year (1000-2100) written with four digits, else None."""
    if not value:
        return None
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None


def doi(value: str) -> str:
    """A DOI in lower case without "https://doi.org/", "doi:" or the like; "" if `value`
    holds none."""
    if not value or "10." not in value:
        return ""
    match = _DOI.search(value)
    if not match:
        return ""
    found = match.group(0)
    if "%" in found:
        found = unquote(found)
    return found.rstrip(".,;").lower()


def is_doi_like(value: str) -> bool:
    """A value that is a DOI or a doi.org link (and not, say, a URL that contains one)."""
    value = value.strip()
    return value.lower().startswith(("10.", "doi:", "doi ")) or bool(_DOI_URL.match(value))


def pmid(value: str) -> str:
    value = value.strip()
    if value.endswith(".0"):  # a number that went through a spreadsheet
        value = value[:-2]
    return value if _PMID.match(value) else ""


def pmcid(value: str) -> str:
    value = value.strip()
    return value.upper() if _PMCID.match(value) else ""


def pages(start: str, end: str = "") -> str:
    start, end = start.strip(), end.strip()
    if start and end and "-" not in start and start != end:
        return f"{start}-{end}"
    return start or ""


def split_list(value: str, separator: str = ";") -> list[str]:
    """'A; B;; C ' -> ['A', 'B', 'C']."""
    return [item for item in (one_line(part) for part in value.split(separator)) if item]


def standard_numbers(values: list[str]) -> dict[str, str]:
    """ISSN and ISBN found in ISSN/ISBN fields (which often mix both and hold several):
    {"issn": "1234-5678", "isbn": "9780123456789"}, the first of each."""
    found: dict[str, str] = {}
    for value in values:
        if ";" in value or "," in value:
            value = value.replace(";", " ").replace(",", " ")
        for token in value.split():
            compact = token.replace("-", "").upper()
            if not compact:
                continue
            if len(compact) == 8 and compact[:7].isdigit() and compact[7] in "0123456789X":
                found.setdefault("issn", f"{compact[:4]}-{compact[4:]}")
            elif len(compact) in (10, 13) and compact[:-1].isdigit() and \
                    compact[-1] in "0123456789X":
                found.setdefault("isbn", compact)
    return found


def first(*values: str) -> str:
    for value in values:
        if value:
            return value
    return ""
