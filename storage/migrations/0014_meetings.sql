-- Meetings and events of a unit (sinh hoạt chi hội, hội nghị tuyên truyền, tập huấn …) with
-- invitations, answers and attendance (issue 13 §1).
--
-- starts_at, opens_at, closes_at, remind_at are UTC instants; day is the local date of the
-- start ('YYYY-MM-DD' in BOT_TIMEZONE), so figures per period are range scans. The check-in
-- window is [opens_at, closes_at): an hour before the start until the end of the local day.
-- remind_at: 18:00 local the evening before (NULL: created after it, no reminder).
-- code: the unguessable check-in code of the QR link (?start=dd-<code>).
-- created_by is a Telegram user id (erasure turns it into the pseudonym).
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL CHECK (length(title) <= 200),
    place         TEXT NOT NULL CHECK (length(place) <= 200),
    agenda        TEXT CHECK (agenda IS NULL OR length(agenda) <= 1000),
    audience      TEXT NOT NULL DEFAULT 'all',
    starts_at     TEXT NOT NULL,
    day           TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    opens_at      TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    remind_at     TEXT,
    reminded_at   TEXT,
    code          TEXT NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX events_by_unit_day ON events(unit_id, day);
CREATE INDEX events_by_remind ON events(remind_at) WHERE reminded_at IS NULL;

-- Who was invited (the audience when the event was created), her answer and her attendance.
-- attended_how: 'code' (she scanned or typed the code) or 'head' (ticked from the list, by
-- marked_by, a Telegram user id).
CREATE TABLE event_invitations (
    event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    answer        TEXT CHECK (answer IS NULL OR answer IN ('yes', 'no')),
    answered_at   TEXT,
    attended_at   TEXT,
    attended_how  TEXT CHECK (attended_how IS NULL OR attended_how IN ('code', 'head')),
    marked_by     INTEGER,
    PRIMARY KEY (event_id, member_id)
) WITHOUT ROWID;
CREATE INDEX event_invitations_by_member ON event_invitations(member_id, event_id);
