-- Bytes per token row on PostgreSQL: the heap and each index of `tokens`, divided
-- by the rows it holds, and the average stored size of the widest columns.
-- Read-only; run against a database with a representative `tokens` table:
--   psql "$DATABASE_URL" -f scripts/bench/row-size.sql
-- (Sizes count whole pages: run VACUUM first for a table that saw many updates.)
WITH n AS (SELECT GREATEST(COUNT(*), 1)::numeric AS rows FROM tokens)
SELECT c.relname AS relation,
       CASE c.relkind WHEN 'r' THEN 'heap' ELSE 'index' END AS kind,
       round(pg_relation_size(c.oid) / n.rows, 1) AS bytes_per_row
FROM pg_class c, n
WHERE c.oid = 'tokens'::regclass
   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'tokens'::regclass)
UNION ALL
SELECT 'all (pg_total_relation_size)', 'total', round(pg_total_relation_size('tokens') / n.rows, 1)
FROM n
ORDER BY 3 DESC;

SELECT COUNT(*) AS rows,
       round(avg(pg_column_size(t.*)), 1) AS tuple_bytes,
       round(avg(pg_column_size(user_agent)), 1) AS user_agent,
       round(avg(pg_column_size(token_hash)), 1) AS token_hash,
       round(avg(pg_column_size(jti)), 1) AS jti,
       round(avg(pg_column_size(user_email)), 1) AS user_email,
       round(avg(pg_column_size(key_id)), 1) AS key_id,
       round(avg(pg_column_size(ip_address)), 1) AS ip_address
FROM tokens t;
