-- TOTP second factor: encrypted secrets, the last accepted time step (replay
-- protection), single-use recovery codes, and a wrong-code counter for login
-- challenges (stored in tokens as token_type 'challenge').
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE tokens ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE UNIQUE INDEX recovery_codes_code_hash_key ON recovery_codes (code_hash);
CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id);
