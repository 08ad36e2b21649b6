-- No index mentions `expired`, so marking a token expired updates no index
-- (SQLite rewrites only the indexes whose columns, or partial-index predicates,
-- an UPDATE touches). Marking walks tokens_expires_at_idx from where the previous
-- run stopped. The token-hash index stays a unique B-tree: SQLite has no other kind.

DROP INDEX tokens_unmarked_expires_at_idx;

DROP INDEX tokens_valid_idx;
CREATE INDEX tokens_valid_idx ON tokens (user_email, expires_at) WHERE revoked = 0;
