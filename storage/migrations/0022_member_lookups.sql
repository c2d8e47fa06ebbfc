-- One member's rows, found through an index instead of reading whole tables of millions
-- (tests/test_erasure.py::test_deleteme_and_mydata_read_her_rows_through_indexes):
-- /mydata counts her deliveries and lists her poll answers and her acts in the audit log;
-- /deleteme also rewrites every column that names her as the officer who acted.

-- A delivery per member per notice: the largest table of all.
CREATE INDEX deliveries_by_member ON deliveries(member_id);
-- At start-up, deliveries interrupted in the middle of a send (usually none).
CREATE INDEX deliveries_sending ON deliveries(broadcast_id) WHERE status = 'sending';
CREATE INDEX poll_answers_by_member ON poll_answers(member_id) WHERE member_id IS NOT NULL;
CREATE INDEX audit_by_actor ON audit_log(actor_id) WHERE actor_id IS NOT NULL;

-- Who decided, marked, flagged or entered (Telegram user ids of officers; mostly NULL for
-- rows nobody has acted on, so these partial indexes stay small).
CREATE INDEX standard_by_decider ON standard_registrations(decided_by)
    WHERE decided_by IS NOT NULL;
CREATE INDEX household_by_decider ON household_registrations(decided_by)
    WHERE decided_by IS NOT NULL;
CREATE INDEX evaluation_decisions_by_decider ON evaluation_decisions(decided_by);
CREATE INDEX invitations_by_marker ON event_invitations(marked_by) WHERE marked_by IS NOT NULL;
CREATE INDEX activity_reports_by_flagger ON activity_reports(flagged_by)
    WHERE flagged_by IS NOT NULL;
-- Doubt marks' reasons are searched for her name (free text): only the flagged reports.
CREATE INDEX activity_reports_with_reason ON activity_reports(id) WHERE flag_reason IS NOT NULL;
CREATE INDEX unit_figures_by_author ON unit_figures(entered_by) WHERE entered_by IS NOT NULL;
CREATE INDEX unit_figure_history_by_author ON unit_figure_history(changed_by);
