-- /stats "Yêu cầu hỗ trợ" counts one year's requests (storage/support.py `counts`): without
-- this index SQLite read every request ever stored (SCAN support_requests). Covering: the
-- counts are read from the index alone (no body, no content).
CREATE INDEX support_requests_by_created ON support_requests(created_at, unit_id, category,
                                                             status, acknowledged_at);
