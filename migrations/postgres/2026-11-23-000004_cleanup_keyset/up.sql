-- Cleanup walks its indexes in keyset batches, ordered by (timestamp, id), each
-- batch resuming strictly after the last row of the previous one. A single-column
-- index orders equal timestamps by heap position, not by id, so the planner has
-- to sort every row sharing a timestamp (a bulk insert can give thousands the
-- same one) in each batch. Ending these indexes in the id serves the walk with no
-- sort. They replace the single-column ones, which every other query used only by
-- their leading column, so the table keeps as many indexes as before.

DROP INDEX tokens_expires_at_idx;
CREATE INDEX tokens_expires_at_idx ON tokens (expires_at, id);

DROP INDEX tokens_unmarked_expires_at_idx;
CREATE INDEX tokens_unmarked_expires_at_idx ON tokens (expires_at, id) WHERE NOT expired;

DROP INDEX sessions_expires_at_idx;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at, id);

DROP INDEX sessions_revoked_at_idx;
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at, id) WHERE revoked;

DROP INDEX audit_events_created_at_idx;
CREATE INDEX audit_events_created_at_idx ON audit_events (created_at, id);
