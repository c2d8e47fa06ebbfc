-- A delivery is marked 'sending' (committed) before its message goes out, so a lost answer or
-- a crash during the send can never lead to a second copy: such a row ends as 'maybe_sent'.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same columns.
CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY,
    broadcast_id     INTEGER NOT NULL REFERENCES broadcasts(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'maybe_sent', 'failed',
                                       'blocked', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL DEFAULT '',
    last_error       TEXT,
    sent_at          TEXT,
    message_id       INTEGER,
    variant          INTEGER,
    UNIQUE (broadcast_id, member_id)
);
INSERT INTO deliveries_new (id, broadcast_id, member_id, status, attempts, next_attempt_at,
                            last_error, sent_at, message_id, variant)
    SELECT id, broadcast_id, member_id, status, attempts, next_attempt_at, last_error, sent_at,
           message_id, variant FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries(broadcast_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_status ON deliveries(broadcast_id, status);
