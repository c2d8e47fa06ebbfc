-- Yearly campaigns: the women's standard and the "Gia đình 5 không 3 sạch" family campaign.
-- A registration keeps the unit the member was in when she registered (unit_id), so later
-- moves and merges of units never rewrite history. The current decision (result, who, when)
-- sits on the registration for cheap per-chapter-per-year counts; evaluation_decisions keeps
-- every decision ever made. decided_by / closed_by are Telegram user ids (a super-admin need
-- not be a member). Codes refer to bot/data/catalog.toml entries.
CREATE TABLE standard_registrations (
    id             INTEGER PRIMARY KEY,
    year           INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    member_id      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    unit_id        INTEGER NOT NULL REFERENCES units(id),
    registered_at  TEXT NOT NULL,
    result         TEXT CHECK (result IN ('achieved', 'not_achieved')),
    decided_by     INTEGER,
    decided_at     TEXT,
    UNIQUE (member_id, year)
);
CREATE INDEX standard_by_year_unit ON standard_registrations(year, unit_id, result);

CREATE TABLE standard_commitments (
    registration_id  INTEGER NOT NULL REFERENCES standard_registrations(id) ON DELETE CASCADE,
    quality_code     TEXT NOT NULL,
    text             TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (registration_id, quality_code)
) WITHOUT ROWID;
CREATE INDEX standard_commitments_by_code ON standard_commitments(quality_code);

CREATE TABLE household_registrations (
    id             INTEGER PRIMARY KEY,
    year           INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    member_id      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    unit_id        INTEGER NOT NULL REFERENCES units(id),
    registered_at  TEXT NOT NULL,
    assessed_at    TEXT,
    meets_all      INTEGER NOT NULL DEFAULT 0 CHECK (meets_all IN (0, 1)),
    result         TEXT CHECK (result IN ('recognised', 'not_recognised')),
    decided_by     INTEGER,
    decided_at     TEXT,
    UNIQUE (member_id, year)
);
CREATE INDEX households_by_year_unit
    ON household_registrations(year, unit_id, meets_all, result);

-- Sensitive: only the member herself is ever shown these.
CREATE TABLE household_answers (
    household_id    INTEGER NOT NULL REFERENCES household_registrations(id) ON DELETE CASCADE,
    criterion_code  TEXT NOT NULL,
    met             INTEGER NOT NULL CHECK (met IN (0, 1)),
    answered_at     TEXT NOT NULL,
    PRIMARY KEY (household_id, criterion_code)
) WITHOUT ROWID;
CREATE INDEX household_answers_by_code ON household_answers(criterion_code);

CREATE TABLE evaluation_decisions (
    id               INTEGER PRIMARY KEY,
    campaign         TEXT NOT NULL CHECK (campaign IN ('standard', 'family')),
    registration_id  INTEGER NOT NULL,
    result           TEXT NOT NULL,
    decided_by       INTEGER NOT NULL,
    decided_at       TEXT NOT NULL
);
CREATE INDEX evaluation_decisions_by_registration
    ON evaluation_decisions(campaign, registration_id);

-- A year closed for a unit's subtree (unit_id NULL: everywhere); then read-only there.
CREATE TABLE closed_years (
    year       INTEGER NOT NULL,
    unit_id    INTEGER REFERENCES units(id),
    closed_by  INTEGER NOT NULL,
    closed_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX closed_years_scope ON closed_years(year, ifnull(unit_id, 0));
