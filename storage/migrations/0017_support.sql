-- Confidential requests for help ("Địa chỉ tin cậy", issue 14 §2) and the request-handler role.
-- The contents (body, photo, messages, closing note) are cleared on erasure; the row stays,
-- content-free, for the counts. Officer columns hold Telegram ids (pseudonymised on erasure).

CREATE TABLE roles_new (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role        TEXT NOT NULL
                CHECK (role IN ('chapter_head', 'unit_admin', 'request_handler')),
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    granted_at  TEXT NOT NULL,
    UNIQUE (member_id, role, unit_id)
);
INSERT INTO roles_new (id, member_id, role, unit_id, granted_at)
    SELECT id, member_id, role, unit_id, granted_at FROM roles;
DROP TABLE roles;
ALTER TABLE roles_new RENAME TO roles;
CREATE INDEX roles_by_unit ON roles(unit_id, role);

CREATE TABLE support_requests (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER NOT NULL REFERENCES members(id),
    unit_id          INTEGER NOT NULL REFERENCES units(id),  -- her chapter when she wrote
    category         TEXT NOT NULL,
    audience         TEXT NOT NULL CHECK (audience IN ('handlers', 'with_head')),
    status           TEXT NOT NULL DEFAULT 'new' CHECK (status IN
                     ('new', 'acknowledged', 'in_progress', 'resolved', 'referred')),
    body             TEXT,
    photo_file_id    TEXT,
    created_at       TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  INTEGER,
    closed_at        TEXT,
    closed_by        INTEGER,
    closing_note     TEXT,
    escalated_at     TEXT,
    erased_at        TEXT
);
CREATE INDEX support_requests_by_unit ON support_requests(unit_id, created_at);
CREATE INDEX support_requests_by_member ON support_requests(member_id);
CREATE INDEX support_requests_open ON support_requests(status, escalated_at);

CREATE TABLE support_messages (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES support_requests(id) ON DELETE CASCADE,
    author      TEXT NOT NULL CHECK (author IN ('member', 'officer')),
    officer_id  INTEGER,
    body        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX support_messages_by_request ON support_messages(request_id, id);
