-- Polls and quick surveys (issue 14 §1). A poll is sent as one broadcast of kind 'poll' (its
-- deliveries are its audience); answers are counted per unit.
CREATE TABLE polls (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_key     TEXT NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL,  -- Telegram id of the officer (her pseudonym once erased)
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    audience      TEXT NOT NULL,     -- a filter of storage/deliveries.AUDIENCE_FILTERS
    question      TEXT NOT NULL,
    options       TEXT NOT NULL,     -- JSON list of the option labels (codes 1..n)
    multiple      INTEGER NOT NULL,
    other         INTEGER NOT NULL,  -- offers "Khác (chị ghi rõ)" (code 0) with a typed text
    anonymous     INTEGER NOT NULL,
    show_results  INTEGER NOT NULL,  -- members see the results once it closed
    locale        TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    remind_at     TEXT,
    reminded_at   TEXT,
    closed_at     TEXT,
    broadcast_id  INTEGER REFERENCES broadcasts(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX polls_open ON polls (closed_at, closes_at);

-- One answer per member and poll. For an anonymous poll member_id only lets her change her
-- answer while the poll is open: it is set to NULL when the poll closes (and the answer is
-- deleted with her data). unit_id is where she was when she answered (results per unit).
CREATE TABLE poll_answers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id      INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    member_id    INTEGER REFERENCES members(id),
    unit_id      INTEGER NOT NULL,
    choices      INTEGER NOT NULL,   -- the codes chosen, as bits (code c: 1 << c)
    other_text   TEXT,
    answered_at  TEXT NOT NULL,
    UNIQUE (poll_id, member_id)
);
CREATE INDEX poll_answers_by_unit ON poll_answers (poll_id, unit_id);

-- Anonymous polls publish results per unit in batches (as disclosure_released does): answers
-- changed since the unit's last release (answer ids only), and the published counts.
CREATE TABLE poll_pending (
    poll_id    INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    unit_id    INTEGER NOT NULL,
    answer_id  INTEGER NOT NULL,
    PRIMARY KEY (poll_id, unit_id, answer_id)
) WITHOUT ROWID;

CREATE TABLE poll_released (
    poll_id      INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    unit_id      INTEGER NOT NULL,
    respondents  INTEGER NOT NULL,
    cells        TEXT NOT NULL,      -- JSON {option code: answers choosing it}
    released_at  TEXT NOT NULL,
    PRIMARY KEY (poll_id, unit_id)
) WITHOUT ROWID;

-- How many members each unit's share of the audience had when the survey went out (the
-- response rate's denominator; counts only), written once its deliveries exist.
CREATE TABLE poll_audience (
    poll_id     INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL,
    recipients  INTEGER NOT NULL,
    PRIMARY KEY (poll_id, unit_id)
) WITHOUT ROWID;
