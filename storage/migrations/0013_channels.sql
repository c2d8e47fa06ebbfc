-- Members reached on another channel than Telegram (Zalo). Their string ids are mapped to
-- synthetic Telegram-shaped ids from 2^52 up (Telegram ids have at most 52 significant bits,
-- so a real Telegram id can never fall there); the channel is derived from that range.
CREATE TABLE channel_accounts (
    internal_id  INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (channel, external_id)
);

-- Events a channel delivered (Zalo may deliver one twice): processed at most once.
-- Holds no content; old rows are dropped by the bridge after a few days.
CREATE TABLE channel_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    channel   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    UNIQUE (channel, event_id)
);
