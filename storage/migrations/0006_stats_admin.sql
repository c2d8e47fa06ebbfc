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

-- Activity statistics over activity_reports (0004): counts, distinct participants and
-- quantities per unit and day, without reports marked doubtful, from the index alone.
CREATE INDEX activity_reports_for_stats
    ON activity_reports(unit_id, day, activity_code, member_id, quantity, flagged_at);

-- Year figures of activities, kept up to date by triggers on activity_reports, so /stats at a
-- wide scope does not count a year of reports (and their distinct members) on every call.
-- Only reports not marked doubtful count. One row per unit, year, type and member (her
-- reports and their summed quantity: a subtree's distinct members); per unit, year and type
-- (reports, quantity); per year, type and member (in how many units she reported: the
-- distinct members of the whole tree). The year is the report's local date's year.
CREATE TABLE activity_participation (
    unit_id        INTEGER NOT NULL,
    year           INTEGER NOT NULL,
    activity_code  TEXT NOT NULL,
    member_id      INTEGER NOT NULL,
    reports        INTEGER NOT NULL,
    quantity       REAL NOT NULL,
    PRIMARY KEY (unit_id, year, activity_code, member_id)
) WITHOUT ROWID;

CREATE TABLE activity_totals (
    unit_id        INTEGER NOT NULL,
    year           INTEGER NOT NULL,
    activity_code  TEXT NOT NULL,
    reports        INTEGER NOT NULL,
    quantity       REAL NOT NULL,
    PRIMARY KEY (unit_id, year, activity_code)
) WITHOUT ROWID;

CREATE TABLE activity_year_members (
    year           INTEGER NOT NULL,
    activity_code  TEXT NOT NULL,
    member_id      INTEGER NOT NULL,
    units          INTEGER NOT NULL,
    PRIMARY KEY (year, activity_code, member_id)
) WITHOUT ROWID;

INSERT INTO activity_participation
    SELECT unit_id, CAST(substr(day, 1, 4) AS INTEGER), activity_code, member_id, count(*),
           total(quantity)
    FROM activity_reports WHERE flagged_at IS NULL GROUP BY 1, 2, 3, 4;
INSERT INTO activity_totals
    SELECT unit_id, year, activity_code, sum(reports), total(quantity)
    FROM activity_participation GROUP BY 1, 2, 3;
INSERT INTO activity_year_members
    SELECT year, activity_code, member_id, count(*)
    FROM activity_participation GROUP BY 1, 2, 3;

CREATE TRIGGER activity_counted AFTER INSERT ON activity_reports
WHEN NEW.flagged_at IS NULL BEGIN
    INSERT INTO activity_participation VALUES (NEW.unit_id, CAST(substr(NEW.day, 1, 4) AS INTEGER),
        NEW.activity_code, NEW.member_id, 1, coalesce(NEW.quantity, 0))
    ON CONFLICT DO UPDATE SET reports = reports + 1, quantity = quantity + excluded.quantity;
    INSERT INTO activity_totals VALUES (NEW.unit_id, CAST(substr(NEW.day, 1, 4) AS INTEGER),
        NEW.activity_code, 1, coalesce(NEW.quantity, 0))
    ON CONFLICT DO UPDATE SET reports = reports + 1, quantity = quantity + excluded.quantity;
    INSERT INTO activity_year_members SELECT year, activity_code, member_id, 1
        FROM activity_participation
        WHERE unit_id = NEW.unit_id AND year = CAST(substr(NEW.day, 1, 4) AS INTEGER)
        AND activity_code = NEW.activity_code AND member_id = NEW.member_id AND reports = 1
    ON CONFLICT DO UPDATE SET units = units + 1;
END;

CREATE TRIGGER activity_uncounted AFTER DELETE ON activity_reports
WHEN OLD.flagged_at IS NULL BEGIN
    UPDATE activity_participation SET reports = reports - 1,
        quantity = quantity - coalesce(OLD.quantity, 0)
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND member_id = OLD.member_id;
    UPDATE activity_totals SET reports = reports - 1,
        quantity = quantity - coalesce(OLD.quantity, 0)
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code;
    UPDATE activity_year_members SET units = units - 1
        WHERE year = CAST(substr(OLD.day, 1, 4) AS INTEGER) AND activity_code = OLD.activity_code
        AND member_id = OLD.member_id AND EXISTS (SELECT 1 FROM activity_participation p
            WHERE p.unit_id = OLD.unit_id AND p.year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
            AND p.activity_code = OLD.activity_code AND p.member_id = OLD.member_id
            AND p.reports = 0);
    DELETE FROM activity_year_members
        WHERE year = CAST(substr(OLD.day, 1, 4) AS INTEGER) AND activity_code = OLD.activity_code
        AND member_id = OLD.member_id AND units = 0;
    DELETE FROM activity_participation
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND member_id = OLD.member_id AND reports = 0;
    DELETE FROM activity_totals
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND reports = 0;
END;

-- A changed report (day, type, unit, quantity, a doubt mark set or taken off): the old version
-- leaves the figures and the new one enters them (the two triggers commute).
CREATE TRIGGER activity_recounted_old AFTER UPDATE OF unit_id, day, activity_code, member_id, quantity, flagged_at ON activity_reports
WHEN OLD.flagged_at IS NULL BEGIN
    UPDATE activity_participation SET reports = reports - 1,
        quantity = quantity - coalesce(OLD.quantity, 0)
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND member_id = OLD.member_id;
    UPDATE activity_totals SET reports = reports - 1,
        quantity = quantity - coalesce(OLD.quantity, 0)
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code;
    UPDATE activity_year_members SET units = units - 1
        WHERE year = CAST(substr(OLD.day, 1, 4) AS INTEGER) AND activity_code = OLD.activity_code
        AND member_id = OLD.member_id AND EXISTS (SELECT 1 FROM activity_participation p
            WHERE p.unit_id = OLD.unit_id AND p.year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
            AND p.activity_code = OLD.activity_code AND p.member_id = OLD.member_id
            AND p.reports = 0);
    DELETE FROM activity_year_members
        WHERE year = CAST(substr(OLD.day, 1, 4) AS INTEGER) AND activity_code = OLD.activity_code
        AND member_id = OLD.member_id AND units = 0;
    DELETE FROM activity_participation
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND member_id = OLD.member_id AND reports = 0;
    DELETE FROM activity_totals
        WHERE unit_id = OLD.unit_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
        AND activity_code = OLD.activity_code AND reports = 0;
END;

CREATE TRIGGER activity_recounted_new AFTER UPDATE OF unit_id, day, activity_code, member_id, quantity, flagged_at ON activity_reports
WHEN NEW.flagged_at IS NULL BEGIN
    INSERT INTO activity_participation VALUES (NEW.unit_id, CAST(substr(NEW.day, 1, 4) AS INTEGER),
        NEW.activity_code, NEW.member_id, 1, coalesce(NEW.quantity, 0))
    ON CONFLICT DO UPDATE SET reports = reports + 1, quantity = quantity + excluded.quantity;
    INSERT INTO activity_totals VALUES (NEW.unit_id, CAST(substr(NEW.day, 1, 4) AS INTEGER),
        NEW.activity_code, 1, coalesce(NEW.quantity, 0))
    ON CONFLICT DO UPDATE SET reports = reports + 1, quantity = quantity + excluded.quantity;
    INSERT INTO activity_year_members SELECT year, activity_code, member_id, 1
        FROM activity_participation
        WHERE unit_id = NEW.unit_id AND year = CAST(substr(NEW.day, 1, 4) AS INTEGER)
        AND activity_code = NEW.activity_code AND member_id = NEW.member_id AND reports = 1
    ON CONFLICT DO UPDATE SET units = units + 1;
END;
