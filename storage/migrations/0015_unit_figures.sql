-- Unit indicators (issue 13 §2): figures a unit enters per month, their corrections, and the
-- one deadline reminder per unit and month. Actor columns hold Telegram ids (pseudonymised on
-- erasure like every audit row); the figures themselves are the unit's, not a person's.
CREATE TABLE unit_figures (
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    month       TEXT NOT NULL,  -- local calendar month, 'YYYY-MM'
    indicator   TEXT NOT NULL,  -- code in the indicator catalog
    value       REAL NOT NULL,
    entered_by  INTEGER,
    entered_at  TEXT NOT NULL,
    PRIMARY KEY (unit_id, month, indicator)
) WITHOUT ROWID;
CREATE INDEX unit_figures_by_month ON unit_figures(month, unit_id);

CREATE TABLE unit_figure_history (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    month       TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    old_value   REAL,
    new_value   REAL NOT NULL,
    changed_by  INTEGER,
    changed_at  TEXT NOT NULL
);
CREATE INDEX unit_figure_history_by_key ON unit_figure_history(unit_id, month, indicator);

CREATE TABLE figure_reminders (
    unit_id  INTEGER NOT NULL REFERENCES units(id),
    month    TEXT NOT NULL,
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (unit_id, month)
) WITHOUT ROWID;
