-- tokenward monitoring queries (PostgreSQL).
--
-- Run the whole file safely with
--   psql "$DATABASE_URL" -f scripts/monitoring.sql
-- Every statement that runs is a read-only SELECT. The contract's UPDATE and
-- DELETE examples are kept below as comments; copy them out deliberately.
-- tests/api/monitoring.rs runs each statement against a fixture with known
-- answers, from a session whose TimeZone is not UTC, and checks with EXPLAIN
-- that indexes serve the queries on tokens.
-- Timestamps are timestamptz; hourly buckets are reported in UTC.


-- ============================================================================
-- The monitoring queries of the API reference (docs/api.md), verbatim
-- ============================================================================

-- Which users hold active (not revoked, not expired) tokens, and how many?
SELECT user_email, COUNT(*) AS active_tokens
FROM tokens
WHERE revoked = false AND expired = false AND expires_at > NOW()
GROUP BY user_email;

-- How many tokens expired more than 24 hours ago (what the DELETE below removes)?
SELECT COUNT(*) FROM tokens WHERE expires_at < NOW() - INTERVAL '24 hours';

-- !!! WARNING: the two statements below WRITE to the database. !!!
-- They are examples, commented out so that running this file changes nothing.
-- Run one on purpose, on its own, after checking the email / the count above.
--
-- Revoke every token of one user (the running server rejects them within 1 s):
-- UPDATE tokens SET revoked = true WHERE user_email = 'user@example.com';
--
-- Delete tokens that expired more than 24 hours ago:
-- DELETE FROM tokens WHERE expires_at < NOW() - INTERVAL '24 hours';


-- ============================================================================
-- Sessions
-- ============================================================================

-- Who is logged in: active sessions per user, with their latest activity.
SELECT u.id AS user_id,
       u.email,
       u.is_active,
       COUNT(s.id) AS active_sessions,
       MAX(s.last_seen_at) AS last_seen_at,
       u.last_login_at
FROM users u
JOIN sessions s ON s.user_id = u.id
WHERE s.revoked = false
  AND s.expires_at > NOW()
  -- A session whose tokens were all revoked (by SQL too) is not live.
  AND EXISTS (SELECT 1 FROM tokens t
              WHERE t.session_id = s.id AND t.revoked = false AND t.expires_at > NOW())
GROUP BY u.id, u.email, u.is_active, u.last_login_at
ORDER BY active_sessions DESC, u.email;

-- Which clients are in use: active sessions per user agent.
SELECT COALESCE(s.user_agent::text, '(none)') AS user_agent,
       COUNT(*) AS active_sessions,
       COUNT(DISTINCT s.user_id) AS users
FROM sessions s
WHERE s.revoked = false
  AND s.expires_at > NOW()
  AND EXISTS (SELECT 1 FROM tokens t
              WHERE t.session_id = s.id AND t.revoked = false AND t.expires_at > NOW())
GROUP BY COALESCE(s.user_agent::text, '(none)')
ORDER BY active_sessions DESC, user_agent
LIMIT 50;


-- ============================================================================
-- Tokens
-- ============================================================================

-- How many tokens of each type are active, revoked or expired?
-- ("expired" counts rows past expires_at even before the cleanup job marks them.)
-- The one query here that reads the whole table: a tally of every row, which no
-- index can shorten. Cheap after cleanup has trimmed the table; avoid polling it.
SELECT token_type,
       CASE
           WHEN revoked THEN 'revoked'
           WHEN expired OR expires_at <= NOW() THEN 'expired'
           ELSE 'active'
       END AS state,
       COUNT(*) AS tokens
FROM tokens
GROUP BY 1, 2
ORDER BY 1, 2;

-- What will cleanup touch: rows past expiry not yet marked expired (to be marked),
-- and rows expired more than 24 hours ago (to be deleted), per token type.
SELECT token_type,
       COUNT(*) FILTER (WHERE expired = false AND expires_at <= NOW()) AS to_mark_expired,
       COUNT(*) FILTER (WHERE expires_at < NOW() - INTERVAL '24 hours') AS to_delete,
       MIN(expires_at) AS oldest_expiry
FROM tokens
WHERE expires_at <= NOW()
GROUP BY token_type
ORDER BY token_type;

-- What does one user hold: their tokens, newest first (replace the email; the
-- tokens_user_email_idx index serves it however large the table grows).
SELECT jti,
       token_type,
       session_id,
       created_at,
       expires_at,
       revoked,
       COALESCE(revoked_reason, CASE WHEN revoked THEN '(manual SQL)' END) AS revoked_reason,
       expired,
       ip_address,
       user_agent,
       last_used_at
FROM tokens
WHERE user_email = 'user@example.com'
ORDER BY created_at DESC, id DESC
LIMIT 100;

-- Which tokens were revoked most recently, and why?
-- revoked_reason NULL means revoked by hand in SQL (e.g. the UPDATE above); such
-- rows may also lack revoked_at, and then sort last.
SELECT revoked_at,
       COALESCE(revoked_reason, '(manual SQL)') AS revoked_reason,
       token_type,
       user_email,
       session_id,
       jti,
       ip_address,
       user_agent,
       created_at,
       expires_at
FROM tokens
WHERE revoked = true
ORDER BY revoked_at DESC NULLS LAST, id DESC
LIMIT 50;


-- ============================================================================
-- Logins (audit_events)
-- ============================================================================

-- Logins per hour over the last 24 hours: successes and failures, empty hours included.
SELECT h.hour_utc,
       COUNT(e.id) FILTER (WHERE e.event = 'login_succeeded') AS logins,
       COUNT(e.id) FILTER (WHERE e.event = 'login_failed') AS failed_logins
FROM generate_series(
         date_trunc('hour', NOW() AT TIME ZONE 'UTC') - INTERVAL '23 hours',
         date_trunc('hour', NOW() AT TIME ZONE 'UTC'),
         INTERVAL '1 hour'
     ) AS h(hour_utc)
LEFT JOIN audit_events e
       ON date_trunc('hour', e.created_at AT TIME ZONE 'UTC') = h.hour_utc
      AND e.event IN ('login_succeeded', 'login_failed')
      AND e.created_at >= NOW() - INTERVAL '24 hours'
GROUP BY h.hour_utc
ORDER BY h.hour_utc;

-- Where do failed logins come from: failed logins per client IP over the last
-- 24 hours, with how many distinct accounts each IP tried (password spraying).
SELECT COALESCE(ip_address::text, '(unknown)') AS ip_address,
       COUNT(*) AS failed_logins,
       COUNT(DISTINCT user_email) AS accounts_tried,
       MIN(created_at) AS first_seen,
       MAX(created_at) AS last_seen
FROM audit_events
WHERE event = 'login_failed'
  AND created_at >= NOW() - INTERVAL '24 hours'
GROUP BY COALESCE(ip_address::text, '(unknown)')
ORDER BY failed_logins DESC, last_seen DESC
LIMIT 50;
