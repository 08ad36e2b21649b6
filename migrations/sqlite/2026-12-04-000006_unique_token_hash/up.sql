-- The token-hash index is already a unique B-tree on SQLite; this step keeps
-- the two migration trees in step with PostgreSQL's.
SELECT 1;
