DROP TABLE server_state;
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TRIGGER tokens_stamp_revoked_at;
DROP TABLE tokens;
DROP TABLE sessions;
DROP TABLE users;
