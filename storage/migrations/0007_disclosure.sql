-- Disclosure control (bot/disclosure.py): breakdowns of the family self-assessment are computed
-- from a published copy per unit (where households registered) and year, not from live
-- answers. The copy of a unit is refreshed only once at least K of its households changed
-- since the last release, so two published states never differ by one household's change.
-- Anonymous statistics: counts only, no household or member ids.
CREATE TABLE disclosure_released (
    year         INTEGER NOT NULL,
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    respondents  INTEGER NOT NULL,  -- households that self-assessed (with answers)
    failing      INTEGER NOT NULL,  -- of them, not meeting every criterion
    met          TEXT NOT NULL,     -- JSON {criterion code: households meeting it}
    released_at  TEXT NOT NULL,
    PRIMARY KEY (year, unit_id)
) WITHOUT ROWID;

-- Households whose self-assessment changed since their unit's last release (a flag only: no
-- answers, no time). Written by the triggers below, so every path that changes answers
-- (the checklist, withdrawal, erasure, a catalog change) is covered. NOT EXISTS rather than
-- OR IGNORE: the statement that fires a trigger would override the trigger's conflict clause.
CREATE TABLE disclosure_pending (
    year          INTEGER NOT NULL,
    unit_id       INTEGER NOT NULL,
    household_id  INTEGER NOT NULL,  -- no foreign key: a withdrawn household stays pending
    PRIMARY KEY (year, unit_id, household_id)
) WITHOUT ROWID;

CREATE TRIGGER disclosure_answer_added AFTER INSERT ON household_answers BEGIN
    INSERT INTO disclosure_pending (year, unit_id, household_id)
    SELECT h.year, h.unit_id, h.id FROM household_registrations h WHERE h.id = NEW.household_id
    AND NOT EXISTS (SELECT 1 FROM disclosure_pending p
                    WHERE p.year = h.year AND p.unit_id = h.unit_id AND p.household_id = h.id);
END;

CREATE TRIGGER disclosure_answer_changed AFTER UPDATE OF met ON household_answers
WHEN OLD.met != NEW.met BEGIN
    INSERT INTO disclosure_pending (year, unit_id, household_id)
    SELECT h.year, h.unit_id, h.id FROM household_registrations h WHERE h.id = NEW.household_id
    AND NOT EXISTS (SELECT 1 FROM disclosure_pending p
                    WHERE p.year = h.year AND p.unit_id = h.unit_id AND p.household_id = h.id);
END;

CREATE TRIGGER disclosure_answer_removed AFTER DELETE ON household_answers BEGIN
    INSERT INTO disclosure_pending (year, unit_id, household_id)
    SELECT h.year, h.unit_id, h.id FROM household_registrations h WHERE h.id = OLD.household_id
    AND NOT EXISTS (SELECT 1 FROM disclosure_pending p
                    WHERE p.year = h.year AND p.unit_id = h.unit_id AND p.household_id = h.id);
END;

CREATE TRIGGER disclosure_household_removed AFTER DELETE ON household_registrations
WHEN OLD.assessed_at IS NOT NULL BEGIN
    INSERT INTO disclosure_pending (year, unit_id, household_id)
    SELECT OLD.year, OLD.unit_id, OLD.id WHERE NOT EXISTS (
        SELECT 1 FROM disclosure_pending p
        WHERE p.year = OLD.year AND p.unit_id = OLD.unit_id AND p.household_id = OLD.id);
END;

CREATE TRIGGER disclosure_household_status AFTER UPDATE OF meets_all ON household_registrations
WHEN OLD.meets_all != NEW.meets_all BEGIN
    INSERT INTO disclosure_pending (year, unit_id, household_id)
    SELECT NEW.year, NEW.unit_id, NEW.id WHERE NOT EXISTS (
        SELECT 1 FROM disclosure_pending p
        WHERE p.year = NEW.year AND p.unit_id = NEW.unit_id AND p.household_id = NEW.id);
END;

-- Households assessed before this migration wait for the first release like any other.
INSERT OR IGNORE INTO disclosure_pending (year, unit_id, household_id)
SELECT year, unit_id, id FROM household_registrations WHERE assessed_at IS NOT NULL;
