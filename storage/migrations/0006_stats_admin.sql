-- Statistics, targets, exports, the audit log and changes to the tree made in chat (issue 6).

-- A merged unit is never deleted: it keeps its row, its code and every registration and report
-- made in it, and becomes a hidden child of the unit it was merged into (parent_id and
-- merged_into both point there). Every subtree query therefore counts its history in the
-- surviving unit, while choosers and listings leave it out. Its code resolves to the surviving
-- unit (deep links keep working).
ALTER TABLE units ADD COLUMN merged_into INTEGER REFERENCES units(id);
CREATE INDEX units_merged ON units(merged_into) WHERE merged_into IS NOT NULL;

-- Codes a unit had before `/unit code OLD NEW`: they keep resolving to it.
CREATE TABLE unit_aliases (
    code        TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX unit_aliases_by_unit ON unit_aliases(unit_id);

-- Yearly targets (chỉ tiêu) per unit and metric. `value` is a percentage (0 < v <= 100) or a
-- count, depending on the metric (bot/stats.py METRICS). set_by is a Telegram user id (NULL:
-- the command line).
CREATE TABLE targets (
    unit_id  INTEGER NOT NULL REFERENCES units(id),
    year     INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    metric   TEXT NOT NULL,
    value    REAL NOT NULL CHECK (value > 0),
    set_by   INTEGER,
    set_at   TEXT NOT NULL,
    PRIMARY KEY (unit_id, year, metric)
) WITHOUT ROWID;
CREATE INDEX targets_by_year_unit ON targets(year, unit_id);

-- Who did what, when: roles, tree changes, targets, exports. actor_id is a Telegram user id
-- (NULL: the command line); unit_id the unit acted on; member_id the person concerned.
-- `details` is JSON without criterion answers or other sensitive data.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_id   INTEGER,
    action     TEXT NOT NULL,
    unit_id    INTEGER REFERENCES units(id),
    member_id  INTEGER REFERENCES members(id) ON DELETE SET NULL,
    details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_unit ON audit_log(unit_id, id);
CREATE INDEX audit_by_member ON audit_log(member_id) WHERE member_id IS NOT NULL;

-- Exports run in the background; a restart resumes the unfinished ones.
CREATE TABLE exports (
    id                   INTEGER PRIMARY KEY,
    requested_by         INTEGER NOT NULL,
    chat_id              INTEGER NOT NULL,
    locale               TEXT NOT NULL,
    unit_id              INTEGER REFERENCES units(id),
    year                 INTEGER NOT NULL,
    format               TEXT NOT NULL CHECK (format IN ('xlsx', 'csv')),
    status               TEXT NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress_message_id  INTEGER,
    created_at           TEXT NOT NULL,
    finished_at          TEXT,
    error                TEXT
);
CREATE INDEX exports_unfinished ON exports(status) WHERE status IN ('queued', 'running');
CREATE INDEX exports_by_requester ON exports(requested_by, status);

-- Scoped member counts by status and joining date read only this index; /grant finds a
-- member by phone.
CREATE INDEX members_by_unit_joined ON members(unit_id, status, created_at);
CREATE INDEX members_by_phone ON members(phone) WHERE phone IS NOT NULL;
