-- Indexes for the cleanup job's batches and the admin metrics.
-- Predicates are written as the queries write them (NOT expired, revoked), with no
-- bound parameter, so the planners of both backends can match the partial indexes.

-- Marking visits only rows not yet marked: without this partial index each batch
-- would walk every already-marked row below NOW() on tokens_expires_at_idx.
CREATE INDEX tokens_unmarked_expires_at_idx ON tokens (expires_at) WHERE NOT expired;
-- "Tokens created today" (admin metrics).
CREATE INDEX tokens_created_at_idx ON tokens (created_at);
-- "Tokens revoked today" and the monitoring list of recent revocations.
CREATE INDEX tokens_revoked_at_idx ON tokens (revoked_at) WHERE revoked;
-- Revoked sessions are purged by the time they were revoked.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked;
