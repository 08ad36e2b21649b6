DROP TABLE server_state;
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TABLE tokens;
DROP FUNCTION tokens_stamp_revoked_at();
DROP TABLE sessions;
DROP TABLE users;
