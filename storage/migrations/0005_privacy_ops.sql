-- Members' data rights and operations.
-- seen_updates: the update ids already taken for processing (see bot/dedup.py), as a ring of
-- 65,536 slots (slot = update_id % 65536), so the table never grows and needs no pruning.
CREATE TABLE seen_updates (
    slot       INTEGER PRIMARY KEY,
    update_id  INTEGER NOT NULL
);

-- Her consents, newest first, are read on /mydata, /settings and at start (version check).
CREATE INDEX consents_by_purpose ON consents(purpose, version);

-- Erasures carried out on request (/deleteme or withdrawing the membership consent): no
-- identity, only which anonymised member row and when, so the union can show it honoured it.
CREATE TABLE erasures (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    reason      TEXT NOT NULL CHECK (reason IN ('deleteme', 'withdrawal')),
    erased_at   TEXT NOT NULL
);
