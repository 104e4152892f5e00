"""The extraction table as files a team analyses: XLSX (one workbook) and CSV (a zip of one
CSV per sheet), built from `queries.extraction_table`, so they hold what the page holds.

Sheets: "Studies" (one row per study, one column per field, headed by the field labels),
one sheet per repeating table (one row per table row, keyed by study), and "Evidence"
(every answer with a quote, page or consensus note). Choices are written as their labels
("Other: <text>" for other, specify), numbers as numbers (a CSV keeps a decimal's digits as
typed; XLSX holds Excel's double-precision number), dates as dates. Every text cell goes
through `projects.csvsafe.safe_cell` in both formats: a cell that starts with "=", "+", "-"
or "@" is a formula in a spreadsheet (openpyxl even writes a string starting with "=" as
one). XLSX also drops the control characters its XML cannot hold.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django.utils.text import slugify
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from projects.csvsafe import safe_cell

from . import values
from .models import Field
from .queries import ExtractionTable, TableRow

STUDY_HEADER = ["Study ID", "Study", "Title", "Form version"]
EVIDENCE_HEADER = ["Study ID", "Study", "Field", "Answer", "Quote", "Page", "Consensus note"]
SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Sheet:
    name: str  # the XLSX sheet's name
    filename: str  # the CSV's name in the zip
    frame: pd.DataFrame


def header_of(fld: Field) -> str:
    """A column's header: the field's label, with its unit for a decimal."""
    return f"{fld.label} ({fld.unit})" if fld.type == Field.Type.DECIMAL and fld.unit \
        else fld.label


def cell(fld: Field, value: Any, other: str = "") -> Any:
    """What a file holds for one answer: a number, a date, or neutralised text; None for an
    empty answer."""
    if values.is_empty(fld, value):
        return None
    try:
        if fld.type == Field.Type.INTEGER:
            return int(value)
        if fld.type == Field.Type.DECIMAL:
            return Decimal(value)
        if fld.type == Field.Type.DATE:
            return datetime.date.fromisoformat(value)
    except (TypeError, ValueError, ArithmeticError):
        pass  # a value stored before a rule changed: written as text, never lost
    return safe_cell(values.display_value(fld, value, other))


def _study(row: TableRow) -> list[Any]:
    return [row.study.pk, safe_cell(row.label), safe_cell(row.title)]


def table_sheets(table: ExtractionTable,
                 progress: Callable[[int, int], None] | None = None) -> list[Sheet]:
    """The sheets of the export. `progress(done, total)` is told after each study."""
    simple = table.simple_fields
    studies, evidence = [], []
    tables: dict[int, list[list[Any]]] = {fld.pk: [] for fld in table.table_fields}
    total = len(table.rows)
    for done, row in enumerate(table.rows, start=1):
        line = [*_study(row), row.extraction.version.number]
        for fld in simple:
            answer = row.answer(fld)
            line.append(None if answer is None else cell(fld, answer.value, answer.other))
        studies.append(line)
        for fld in table.table_fields:
            answer = row.answer(fld)
            rows = answer.value if answer is not None and isinstance(answer.value, list) else []
            for number, cells in enumerate(rows, start=1):
                tables[fld.pk].append([*_study(row), number] + [
                    cell(column, cells.get(column.key)) for column in table.columns_of(fld)])
        for fld in table.fields:
            answer = row.answer(fld)
            if answer is not None and (answer.quote or answer.page or answer.note):
                evidence.append([*_study(row)[:2], safe_cell(fld.label),
                                 safe_cell(row.display(fld)), safe_cell(answer.quote),
                                 safe_cell(answer.page), safe_cell(answer.note)])
        if progress:
            progress(done, total)

    names: set[str] = set()
    files: set[str] = set()
    sheets = [Sheet(_unique_sheet_name("Studies", names), _unique_file("studies", files),
                    _frame(studies, STUDY_HEADER + [header_of(f) for f in simple]))]
    for fld in table.table_fields:
        header = STUDY_HEADER[:3] + ["Row"] + [header_of(c) for c in table.columns_of(fld)]
        sheets.append(Sheet(_unique_sheet_name(fld.label, names),
                            _unique_file(f"table-{slugify(fld.label) or fld.key}", files),
                            _frame(tables[fld.pk], header)))
    sheets.append(Sheet(_unique_sheet_name("Evidence", names), _unique_file("evidence", files),
                        _frame(evidence, EVIDENCE_HEADER)))
    return sheets


def _frame(rows: list[list[Any]], header: list[str]) -> pd.DataFrame:
    # Object columns: pandas keeps ints, Decimals, dates and None as they are.
    return pd.DataFrame(rows, columns=header, dtype=object) if rows else \
        pd.DataFrame(columns=header, dtype=object)


def _unique_sheet_name(label: str, taken: set[str]) -> str:
    base = re.sub(r"\s+", " ", _SHEET_NAME_BAD.sub(" ", label)).strip().strip("'") or "Table"
    name, n = base[:SHEET_NAME_MAX], 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _unique_file(stem: str, taken: set[str]) -> str:
    name, n = f"{stem}.csv", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.csv"
    taken.add(name)
    return name


def csv_zip(sheets: list[Sheet]) -> bytes:
    """One CSV (UTF-8 with a byte order mark, so Excel reads the accents) per sheet, zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            archive.writestr(sheet.filename,
                             sheet.frame.to_csv(index=False, lineterminator="\r\n")
                             .encode("utf-8-sig"))
    return buffer.getvalue()


def _xml_safe(value: Any) -> Any:
    # Control characters (pasted from PDFs) are not allowed in XLSX's XML: openpyxl refuses
    # the whole file for one of them.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_bytes(sheets: list[Sheet]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl", date_format="YYYY-MM-DD") as writer:
        for sheet in sheets:
            sheet.frame.map(_xml_safe).to_excel(writer, sheet_name=sheet.name, index=False,
                                                freeze_panes=(1, 0))
    return buffer.getvalue()
