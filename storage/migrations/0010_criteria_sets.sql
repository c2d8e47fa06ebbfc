-- Versioned "5 không, 3 sạch" criteria sets (issue 10 §5). A household registration keeps the
-- set it was made under (criteria_set), so loading a new set for a year never changes what an
-- earlier registration answered. Every registration made before versioning was made under the
-- 2014 set (the shipped catalog, or an installation's own single-set catalog, which loads as
-- set "2014"). NULL (only from direct inserts, e.g. benchmarks) means the set of its year.
ALTER TABLE household_registrations ADD COLUMN criteria_set TEXT;
UPDATE household_registrations SET criteria_set = '2014';

-- Sets loaded with `python -m bot criteria load FILE.toml --year YEAR`: merged over the catalog
-- file's sets at start (same id: this definition wins). `definition` is the validated TOML
-- text as loaded; `from_year` NULL: replaced by a later load for the same year, kept because
-- registrations may still use it. No personal data here.
CREATE TABLE criteria_sets (
    id          TEXT NOT NULL PRIMARY KEY,
    from_year   INTEGER CHECK (from_year BETWEEN 2000 AND 2200),
    definition  TEXT NOT NULL,
    loaded_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX criteria_sets_by_year ON criteria_sets(from_year)
    WHERE from_year IS NOT NULL;
