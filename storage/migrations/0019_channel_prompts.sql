-- The numbered list a Zalo member was shown last (which option a typed number answers), one
-- row per chat, so a restart does not turn her "2" into plain text. Written by the bridge;
-- erased with her and shown in /mydata (storage.privacy).
CREATE TABLE channel_prompts (
    internal_id  INTEGER PRIMARY KEY,
    prompt       TEXT NOT NULL,  -- JSON: the message, its option labels, data and numbers
    updated_at   TEXT NOT NULL
);
