"""CSV that is safe to open in a spreadsheet: every CSV Tandem writes goes through `writer`.

Excel, LibreOffice and Google Sheets run a cell that starts with "=", "+", "-" or "@" as a
formula (and tab or carriage return can hide such a start), so an imported title such as
``=HYPERLINK("http://x","y")`` would become a live link, or worse, in a lead's spreadsheet.
As OWASP advises, such a cell gets a single quote in front: the spreadsheet shows the text.

The rule is on the value, not on the column: any text that starts so is neutralised, except
text that is a plain number ("-0.125", "+3", "-1e-05"), which a spreadsheet reads as that
number and nothing else. So the numbers we write ourselves (a negative kappa) stay numbers,
and a later export cannot forget to mark which of its columns come from data. Values that
are not text (ints, None) are written as csv.writer writes them.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """`value`, with a single quote in front when it is text a spreadsheet would run."""
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class writer:
    """csv.writer, and named like it, whose rows are neutralised by `safe_cell`; same
    arguments, same returns (a streaming response yields what `writerow` returns)."""

    def __init__(self, file, *args, **kwargs):
        self._writer = csv.writer(file, *args, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self._writer.writerow(safe_row(row))
