-- Why a notice stopped without anyone pressing "Cancel" (issue 10 §2): NULL when a person
-- cancelled it in /broadcasts; 'erased' when its sender erased her data; 'permission' when its
-- sender could no longer address its unit (role revoked, unit moved) as it started or ran.
ALTER TABLE broadcasts ADD COLUMN cancel_reason TEXT
    CHECK (cancel_reason IS NULL OR cancel_reason IN ('erased', 'permission'));
