-- Validation looks tokens up by hash. With only a hash index, PostgreSQL cannot
-- know a hash names one row: on a table never analyzed it expects dozens of
-- rows per hash and joins `sessions` by a full scan. A unique B-tree tells the
-- planner "one row per hash" from the index alone, whatever the statistics, so
-- the lookup stays an index probe per token and primary-key probes for its
-- session; it also restores the database's own guarantee that hashes are unique.
DROP INDEX IF EXISTS tokens_token_hash_idx;
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
