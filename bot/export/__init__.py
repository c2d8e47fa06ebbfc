"""/export: the figures of a scope as an .xlsx workbook (or CSV files), built in the background.

Pipeline of one export job (storage/exports.py keeps the job, so a restart resumes it):
1. collect — read everything with a handful of grouped queries (members in batches of units,
   yielding to other updates between batches);
2. lay out — turn it into plain sheets with translated headers (in a worker thread);
3. write — XlsxWriter in constant memory (in the worker thread; progress counted per row);
4. send — one document (or a group of CSV files); the progress message is edited as it goes.

Sheets: Summary (the figures against targets, the privacy-protected criteria counts and the
last 12 environment days), Units (every unit of the scope with its subtree's figures),
Members (who is where and her campaign status — never criterion answers; phone numbers only
in a chapter's own export) and Activities (every unit × activity type: reports, members who
took part, quantities; reports marked doubtful left out). Percentages are whole numbers
computed by bot.stats.percent (shown with a % format), so the file says what the bot says.

The reads run on a connection of their own and the building in a worker thread that gives
the interpreter back every few rows, so interactive replies go on meanwhile.

Rooms: `data` (the plain data), `figures` (collect), `sheets` (lay out), `writers` (write),
`jobs` (run in the background).
"""

from bot.export.data import Cell, Collected, Progress, Sheet
from bot.export.figures import collect
from bot.export.jobs import EXPORT_TASK, file_name, resume, run, runner, start
from bot.export.sheets import lay_out
from bot.export.writers import build, neutral, to_csv, to_xlsx

__all__ = [
    "EXPORT_TASK",
    "Cell",
    "Collected",
    "Progress",
    "Sheet",
    "build",
    "collect",
    "file_name",
    "lay_out",
    "neutral",
    "resume",
    "run",
    "runner",
    "start",
    "to_csv",
    "to_xlsx",
]
