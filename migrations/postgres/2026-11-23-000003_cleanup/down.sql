DROP INDEX sessions_revoked_at_idx;
DROP INDEX tokens_revoked_at_idx;
DROP INDEX tokens_created_at_idx;
DROP INDEX tokens_unmarked_expires_at_idx;
