-- A meeting can be cancelled (issue 13): cancelled_at is the UTC instant (NULL: it stands).
-- A cancelled event sends no reminder, takes no check-in and counts in no figure; who
-- cancelled it is in the audit log (action 'meeting.cancel').
ALTER TABLE events ADD COLUMN cancelled_at TEXT;
