"""Write: the xlsx workbook and the CSV files, with formula-looking text kept as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.export.data import (
    BREATHE_ROWS,
    COUNT,
    DATE,
    PERCENT,
    QUANTITY,
    Cell,
    Collected,
    Progress,
    Sheet,
    breathe,
)
from bot.export.sheets import lay_out
from bot.i18n import Translator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets may read as a formula

_NUMBER_FORMATS = {COUNT: "#,##0", PERCENT: '0"%"', QUANTITY: "#,##0.0"}


def to_xlsx(sheets: Sequence[Sheet], locale: str, progress: Progress | None = None) -> bytes:
    """The workbook (XlsxWriter, row by row in constant memory): bold frozen header rows,
    number and date formats, column widths."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False})
    formats: dict[str, Any] = {name: workbook.add_format({"num_format": code})
                               for name, code in _NUMBER_FORMATS.items()}
    formats[DATE] = workbook.add_format(
        {"num_format": "d/m/yyyy" if locale == "vi" else "d mmm yyyy"})
    literal = workbook.add_format({"quote_prefix": True})  # Excel keeps it text when edited
    title = workbook.add_format({"bold": True, "font_size": 13})
    header = workbook.add_format({"bold": True, "bg_color": "#FCE4EC", "text_wrap": True,
                                  "valign": "top"})
    written = 0
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name[:31])
        row_no = _write_head(ws, sheet, title=title, header=header)
        column_formats = [formats.get(f or "") for f in sheet.formats]
        for row in sheet.rows:
            for column, value in enumerate(row):
                if value is None:
                    continue
                style = column_formats[column] if column < len(column_formats) else None
                if isinstance(value, Cell):
                    value, style = value.value, formats.get(value.format or "")
                if isinstance(value, str):  # write_string: never read as a formula
                    ws.write_string(row_no, column, value,
                                    literal if value.startswith(FORMULA_STARTS) else None)
                elif isinstance(value, date):
                    ws.write_datetime(row_no, column, value, style)
                else:
                    ws.write_number(row_no, column, value, style)
            row_no += 1
            written += 1
            if written % BREATHE_ROWS == 0:
                breathe()
                if progress is not None:
                    progress.done = progress.total // 2 + written // 2
    workbook.close()
    return buffer.getvalue()


def _write_head(ws: Any, sheet: Sheet, *, title: Any, header: Any) -> int:
    """Column widths, the title lines and the frozen header row; the first data row."""
    for index, width in enumerate(sheet.widths):
        ws.set_column(index, index, width)
    row_no = 0
    for line_no, line in enumerate(sheet.title):
        ws.write_string(row_no, 0, line, title if line_no == 0 else None)
        row_no += 1
    if sheet.title:
        row_no += 1
    for column, name in enumerate(sheet.header):
        ws.write_string(row_no, column, name, header)
    ws.freeze_panes(row_no + 1, sheet.freeze_columns)
    return row_no + 1


def neutral(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a "'".

    Names and notes are typed by members ("=HYPERLINK(…)", "+84…", "-"), and Excel or
    LibreOffice would evaluate them when the file is opened (formula injection).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(sheet: Sheet) -> bytes:
    """One sheet as CSV: UTF-8 with a BOM (so Excel reads Vietnamese), the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutral(name) for name in sheet.header])
    for row in sheet.rows:
        writer.writerow(["" if v is None else neutral(v.value if isinstance(v, Cell) else v)
                         for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def build(t: Translator, data: Collected, fmt: str,
          progress: Progress | None = None) -> list[tuple[str, bytes]]:
    """(file name suffix, content) of an export: one workbook, or one CSV per sheet."""
    sheets = lay_out(t, data, progress)
    if fmt == "csv":
        return [(_slug(sheet.name) + ".csv", to_csv(sheet)) for sheet in sheets]
    return [(".xlsx", to_xlsx(sheets, t.locale, progress))]


def _slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "-" + "".join(c if c.isalnum() else "-" for c in plain.lower()).strip("-")


