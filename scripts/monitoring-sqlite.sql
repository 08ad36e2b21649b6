-- The monitoring queries of monitoring.sql, for the SQLite backend (the
-- default). Timestamps are stored as UTC text ('YYYY-MM-DD HH:MM:SS...'), so
-- they compare with datetime('now'), which is UTC too.
--   sqlite3 data/tokenward.db < scripts/monitoring-sqlite.sql

-- Which users hold active (not revoked, not expired) tokens, and how many?
SELECT user_email, COUNT(*) AS active_tokens
FROM tokens
WHERE revoked = 0 AND expired = 0 AND expires_at > datetime('now')
GROUP BY user_email;

-- How many tokens ended more than a day ago (what the cleanup job deletes)?
SELECT COUNT(*) AS n FROM tokens WHERE expires_at < datetime('now', '-24 hours');

-- Who is logged in: live sessions per user, with their latest activity. A
-- session whose tokens were all revoked (by SQL too) is not live.
SELECT u.id AS user_id,
       u.email,
       u.is_active,
       COUNT(s.id) AS active_sessions,
       MAX(s.last_seen_at) AS last_seen_at,
       u.last_login_at
FROM users u
JOIN sessions s ON s.user_id = u.id
WHERE s.revoked = 0
  AND s.expires_at > datetime('now')
  AND EXISTS (SELECT 1 FROM tokens t
              WHERE t.session_id = s.id AND t.revoked = 0 AND t.expires_at > datetime('now'))
GROUP BY u.id, u.email, u.is_active, u.last_login_at
ORDER BY active_sessions DESC, u.email;

-- Which clients are in use: live sessions per user agent.
SELECT COALESCE(s.user_agent, '(none)') AS user_agent,
       COUNT(*) AS active_sessions,
       COUNT(DISTINCT s.user_id) AS users
FROM sessions s
WHERE s.revoked = 0
  AND s.expires_at > datetime('now')
  AND EXISTS (SELECT 1 FROM tokens t
              WHERE t.session_id = s.id AND t.revoked = 0 AND t.expires_at > datetime('now'))
GROUP BY COALESCE(s.user_agent, '(none)')
ORDER BY active_sessions DESC, user_agent
LIMIT 50;

-- How many tokens of each type are active, revoked or expired?
SELECT token_type,
       CASE
           WHEN revoked THEN 'revoked'
           WHEN expired OR expires_at <= datetime('now') THEN 'expired'
           ELSE 'active'
       END AS state,
       COUNT(*) AS tokens
FROM tokens
GROUP BY 1, 2
ORDER BY 1, 2;

-- One user's tokens, newest first.
SELECT jti, token_type, session_id, created_at, expires_at, revoked,
       COALESCE(revoked_reason, CASE WHEN revoked THEN '(manual SQL)' END) AS revoked_reason,
       expired, ip_address, user_agent, last_used_at
FROM tokens
WHERE user_email = 'user@example.com'
ORDER BY created_at DESC, id DESC
LIMIT 100;

-- The latest revocations and why.
SELECT revoked_at, COALESCE(revoked_reason, '(manual SQL)') AS revoked_reason,
       token_type, user_email, session_id, jti, ip_address, user_agent, created_at, expires_at
FROM tokens
WHERE revoked = 1
ORDER BY revoked_at IS NULL, revoked_at DESC, id DESC
LIMIT 50;

-- Failed logins (wrong password or wrong second factor) by client IP, last 24 hours.
SELECT COALESCE(ip_address, '(unknown)') AS ip_address,
       COUNT(*) AS failed_logins,
       COUNT(DISTINCT user_email) AS accounts_tried,
       MIN(created_at) AS first_seen,
       MAX(created_at) AS last_seen
FROM audit_events
WHERE event IN ('login_failed', 'two_factor_failed')
  AND created_at >= datetime('now', '-24 hours')
GROUP BY COALESCE(ip_address, '(unknown)')
ORDER BY failed_logins DESC
LIMIT 50;
