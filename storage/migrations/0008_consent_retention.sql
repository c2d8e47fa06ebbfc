-- Consent per purpose and retention (issue 10 §3).
-- Erasures may now also be made by the retention job ('retention': a member who left long
-- ago, see storage/retention.py). SQLite cannot change a CHECK, so the table is rebuilt; no
-- other table refers to it.
CREATE TABLE erasures_new (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    reason      TEXT NOT NULL CHECK (reason IN ('deleteme', 'withdrawal', 'retention')),
    erased_at   TEXT NOT NULL
);
INSERT INTO erasures_new (id, member_id, reason, erased_at)
    SELECT id, member_id, reason, erased_at FROM erasures;
DROP TABLE erasures;
ALTER TABLE erasures_new RENAME TO erasures;

-- The retention job finds finished broadcasts by when they finished.
CREATE INDEX broadcasts_finished ON broadcasts(finished_at) WHERE finished_at IS NOT NULL;
