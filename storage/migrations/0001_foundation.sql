-- Organisation tree, members, roles, consents and PTB conversation persistence.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   INTEGER REFERENCES units(id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX units_by_parent ON units(parent_id, name);

CREATE TABLE members (
    id                INTEGER PRIMARY KEY,
    telegram_user_id  INTEGER NOT NULL UNIQUE,
    chat_id           INTEGER NOT NULL,
    full_name         TEXT NOT NULL,
    phone             TEXT,
    unit_id           INTEGER REFERENCES units(id),
    locale            TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'stopped', 'unreachable', 'deleted')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX members_by_unit ON members(unit_id, status);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('chapter_head', 'unit_admin')),
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    granted_at  TEXT NOT NULL,
    UNIQUE (member_id, role, unit_id)
);
CREATE INDEX roles_by_unit ON roles(unit_id, role);

CREATE TABLE consents (
    id                INTEGER PRIMARY KEY,
    telegram_user_id  INTEGER NOT NULL,
    purpose           TEXT NOT NULL,
    version           INTEGER NOT NULL,
    given_at          TEXT NOT NULL,
    withdrawn_at      TEXT
);
CREATE INDEX consents_by_user ON consents(telegram_user_id, purpose);

CREATE TABLE conversations (
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,
    state  TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE user_data (
    user_id  INTEGER PRIMARY KEY,
    data     TEXT NOT NULL
);
