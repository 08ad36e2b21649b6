-- Users, sessions, tokens, audit trail and server key material.
-- Timestamps are UTC, written by the server as 'YYYY-MM-DD HH:MM:SS.ffffff'.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    email               TEXT      NOT NULL,
    password_hash       TEXT      NOT NULL,
    full_name           TEXT      NOT NULL DEFAULT '',
    roles               TEXT      NOT NULL DEFAULT '',
    is_active           BOOLEAN   NOT NULL DEFAULT 1,
    two_factor_enabled  BOOLEAN   NOT NULL DEFAULT 0,
    failed_login_count  INTEGER   NOT NULL DEFAULT 0,
    locked_until        TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    last_login_at       TIMESTAMP
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    ip_address      TEXT,
    user_agent      TEXT,
    device_name     TEXT,
    revoked         BOOLEAN   NOT NULL DEFAULT 0,
    revoked_at      TIMESTAMP,
    revoked_reason  TEXT
);
CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked = 0;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    jti             TEXT      NOT NULL,
    token_hash      TEXT      NOT NULL,
    token_type      TEXT      NOT NULL,
    user_id         BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_email      TEXT      NOT NULL,
    session_id      BIGINT    REFERENCES sessions (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    revoked         BOOLEAN   NOT NULL DEFAULT 0,
    revoked_at      TIMESTAMP,
    revoked_reason  TEXT,
    expired         BOOLEAN   NOT NULL DEFAULT 0,
    user_agent      TEXT,
    ip_address      TEXT,
    key_id          TEXT,
    last_used_at    TIMESTAMP
);
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
CREATE UNIQUE INDEX tokens_jti_key ON tokens (jti);
CREATE INDEX tokens_session_id_idx ON tokens (session_id);
CREATE INDEX tokens_user_email_idx ON tokens (user_email);
CREATE INDEX tokens_user_id_idx ON tokens (user_id);
CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);
CREATE INDEX tokens_valid_idx ON tokens (user_email, expires_at)
    WHERE revoked = 0 AND expired = 0;

-- A token revoked by plain SQL still gets its revocation time.
CREATE TRIGGER tokens_stamp_revoked_at AFTER UPDATE OF revoked ON tokens
    FOR EACH ROW WHEN NEW.revoked AND NOT OLD.revoked AND NEW.revoked_at IS NULL
BEGIN
    UPDATE tokens SET revoked_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event       TEXT      NOT NULL,
    user_id     BIGINT,
    user_email  TEXT,
    ip_address  TEXT,
    user_agent  TEXT,
    created_at  TIMESTAMP NOT NULL,
    details     TEXT      NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_created_at_idx ON audit_events (created_at);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at);
CREATE INDEX audit_events_event_idx ON audit_events (event, created_at);

CREATE TABLE signing_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kid          TEXT      NOT NULL,
    algorithm    TEXT      NOT NULL,
    private_key  TEXT      NOT NULL,
    public_key   TEXT,
    created_at   TIMESTAMP NOT NULL,
    retired_at   TIMESTAMP
);
CREATE UNIQUE INDEX signing_keys_kid_key ON signing_keys (kid);

CREATE TABLE server_state (
    name        TEXT PRIMARY KEY,
    value       TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
