-- Activity reports, the Sunday environment-day reminders and what the outbox needs for them.
--
-- A report keeps the unit the member was in when she reported (unit_id) and the local date of
-- the activity (day, 'YYYY-MM-DD' in BOT_TIMEZONE), so per-chapter per-week/month counts are
-- range scans on (unit_id, day). One report per member, activity type and day: the one-tap
-- "I took part" button and a second /report of the same thing find the first one.
-- flagged_by is a Telegram user id (a super-admin need not be a member).
CREATE TABLE activity_reports (
    id             INTEGER PRIMARY KEY,
    member_id      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    unit_id        INTEGER NOT NULL REFERENCES units(id),
    activity_code  TEXT NOT NULL,
    day            TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    quantity       REAL CHECK (quantity IS NULL OR quantity > 0),
    note           TEXT CHECK (note IS NULL OR length(note) <= 500),
    photo_file_id  TEXT,
    source         TEXT NOT NULL DEFAULT 'report' CHECK (source IN ('report', 'button')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    flagged_by     INTEGER,
    flag_reason    TEXT,
    flagged_at     TEXT,
    UNIQUE (member_id, activity_code, day)
);
-- A chapter's week or month (who reported what, totals per type, distinct members): covering.
CREATE INDEX activity_reports_by_unit_day
    ON activity_reports(unit_id, day, activity_code, member_id);
-- One type on given days across all chapters (Sunday participation, the heads' summaries,
-- district statistics per type) and the catalog's "codes in use" check at start.
CREATE INDEX activity_reports_by_code_day
    ON activity_reports(activity_code, day, unit_id, member_id);
-- Her own reports, newest first (/myreports).
CREATE INDEX activity_reports_by_member_day ON activity_reports(member_id, day, id);

-- Reminder schedules: data, edited by admins in chat (/reminders).
-- kind: 'environment' (the day's reminder with the one-tap button), 'heads_up' (the evening
-- before), 'summary' (the chapter heads' participation summary).
-- weekday: Python's date.weekday(), 0 = Monday … 6 = Sunday; local_time 'HH:MM' in BOT_TIMEZONE.
-- unit_id: the subtree it addresses (NULL: everyone). active_since: occurrences due before it
-- (before the schedule was last switched on or changed) are neither sent nor logged as missed;
-- NULL until the scheduler first runs, which sets it to that moment minus the grace window.
CREATE TABLE reminder_schedules (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('environment', 'heads_up', 'summary')),
    unit_id       INTEGER REFERENCES units(id),
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    local_time    TEXT NOT NULL CHECK (local_time GLOB '[0-2][0-9]:[0-5][0-9]'),
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    active_since  TEXT,
    updated_by    INTEGER,
    updated_at    TEXT NOT NULL
);

-- The message of a schedule for a unit's subtree (unit_id NULL: everyone); the most specific
-- unit wins (a ward's text overrides the district's). Without any, the built-in translated text.
CREATE TABLE reminder_texts (
    schedule_id  INTEGER NOT NULL REFERENCES reminder_schedules(id) ON DELETE CASCADE,
    unit_id      INTEGER REFERENCES units(id),
    text_html    TEXT NOT NULL,
    updated_by   INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX reminder_texts_scope ON reminder_texts(schedule_id, ifnull(unit_id, 0));

-- Days (inclusive ranges of local dates) on which a schedule sends nothing, e.g. Tết.
CREATE TABLE reminder_pauses (
    id           INTEGER PRIMARY KEY,
    schedule_id  INTEGER NOT NULL REFERENCES reminder_schedules(id) ON DELETE CASCADE,
    first_day    TEXT NOT NULL,
    last_day     TEXT NOT NULL CHECK (last_day >= first_day),
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX reminder_pauses_by_schedule ON reminder_pauses(schedule_id, last_day);

-- What happened to each occurrence: the primary key is the exactly-once guarantee (written in
-- the transaction that creates the broadcast and its deliveries).
CREATE TABLE reminder_runs (
    schedule_id   INTEGER NOT NULL REFERENCES reminder_schedules(id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('sent', 'skipped', 'paused')),
    due_at        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    broadcast_id  INTEGER REFERENCES broadcasts(id),
    PRIMARY KEY (schedule_id, day)
) WITHOUT ROWID;

-- Members who turned the reminders off in /settings.
CREATE TABLE reminder_optouts (
    member_id      INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    opted_out_at   TEXT NOT NULL
);

-- The outbox: a broadcast may carry inline buttons, and recipients may get one of several
-- variants of it (the reminder in her language and with her ward's text; each head's own
-- summary). A delivery without a variant gets the broadcast's own text and buttons.
ALTER TABLE broadcasts ADD COLUMN reply_markup TEXT;
ALTER TABLE deliveries ADD COLUMN variant INTEGER;
CREATE TABLE broadcast_variants (
    broadcast_id  INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
    variant       INTEGER NOT NULL,
    text_html     TEXT NOT NULL,
    reply_markup  TEXT,
    PRIMARY KEY (broadcast_id, variant)
) WITHOUT ROWID;
CREATE INDEX broadcasts_by_kind ON broadcasts(kind, id);

-- The defaults: Sunday 06:30 with the one-tap button; a Saturday 19:30 heads-up, off; the
-- heads' summary on Sunday at 20:00.
INSERT INTO reminder_schedules (code, kind, weekday, local_time, enabled, updated_at)
VALUES ('sunday', 'environment', 6, '06:30', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
       ('saturday_heads_up', 'heads_up', 5, '19:30', 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
       ('sunday_summary', 'summary', 6, '20:00', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
