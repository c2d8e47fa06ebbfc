-- The outbox: broadcasts and one delivery row per (broadcast, member).
CREATE TABLE broadcasts (
    id                   INTEGER PRIMARY KEY,
    draft_key            TEXT NOT NULL UNIQUE,
    created_by           INTEGER NOT NULL,
    sender_chat_id       INTEGER NOT NULL,
    unit_id              INTEGER NOT NULL REFERENCES units(id),
    audience             TEXT NOT NULL DEFAULT 'all',
    kind                 TEXT NOT NULL DEFAULT 'notice',
    text_html            TEXT NOT NULL,
    photo_file_id        TEXT,
    status               TEXT NOT NULL
                         CHECK (status IN ('scheduled', 'running', 'done', 'cancelled')),
    scheduled_at         TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    started_at           TEXT,
    finished_at          TEXT,
    total                INTEGER NOT NULL DEFAULT 0,
    progress_chat_id     INTEGER,
    progress_message_id  INTEGER
);
CREATE INDEX broadcasts_due ON broadcasts(status, scheduled_at);
CREATE INDEX broadcasts_by_unit ON broadcasts(unit_id, created_at);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    broadcast_id     INTEGER NOT NULL REFERENCES broadcasts(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed', 'blocked', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL DEFAULT '',
    last_error       TEXT,
    sent_at          TEXT,
    message_id       INTEGER,
    UNIQUE (broadcast_id, member_id)
);
CREATE INDEX deliveries_pending ON deliveries(broadcast_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_status ON deliveries(broadcast_id, status);
