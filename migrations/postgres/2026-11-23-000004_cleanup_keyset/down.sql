DROP INDEX audit_events_created_at_idx;
CREATE INDEX audit_events_created_at_idx ON audit_events (created_at);

DROP INDEX sessions_revoked_at_idx;
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked;

DROP INDEX sessions_expires_at_idx;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

DROP INDEX tokens_unmarked_expires_at_idx;
CREATE INDEX tokens_unmarked_expires_at_idx ON tokens (expires_at) WHERE NOT expired;

DROP INDEX tokens_expires_at_idx;
CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);
