-- Year-end results reach a member only when her chapter presses "Gửi kết quả": told_result is
-- the result last handed to the outbox for her (NULL: nothing sent yet), told_at when. A
-- decision is unsent while result IS NOT told_result. Results decided before this migration
-- were already sent one by one, so they count as told.
ALTER TABLE standard_registrations ADD COLUMN told_result TEXT;
ALTER TABLE standard_registrations ADD COLUMN told_at TEXT;
ALTER TABLE household_registrations ADD COLUMN told_result TEXT;
ALTER TABLE household_registrations ADD COLUMN told_at TEXT;
UPDATE standard_registrations SET told_result = result, told_at = decided_at
WHERE result IS NOT NULL;
UPDATE household_registrations SET told_result = result, told_at = decided_at
WHERE result IS NOT NULL;
