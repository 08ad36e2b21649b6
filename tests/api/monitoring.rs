//! `scripts/monitoring.sql` on PostgreSQL: every statement runs, from a session in
//! America/New_York, against a fixture whose answers are known; and the queries
//! on `tokens` can be served by an index.

use chrono::{Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};
use tokenward::db::DbConnection;

use crate::helpers::*;

const MONITORING_SQL: &str = include_str!("../../scripts/monitoring.sql");

/// The file's statements: split on `;` outside comments and string literals.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if !quoted && c == '-' && chars.peek() == Some(&'-') {
            // A comment runs to the end of the line.
            for c in chars.by_ref() {
                if c == '\n' {
                    break;
                }
            }
            current.push('\n');
            continue;
        }
        if c == '\'' {
            quoted = !quoted;
        }
        if c == ';' && !quoted {
            out.push(current.trim().to_string());
            current.clear();
        } else {
            current.push(c);
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    j: String,
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

/// Runs one statement and returns its rows as JSON objects, in order.
fn rows(conn: &mut DbConnection, statement: &str) -> Vec<Value> {
    let wrapped =
        format!("SELECT COALESCE(json_agg(q), '[]'::json)::text AS j FROM ({statement}) AS q");
    let out: Json = diesel::sql_query(wrapped)
        .get_result(conn)
        .unwrap_or_else(|e| panic!("{e}: {statement}"));
    serde_json::from_str::<Value>(&out.j)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The plan nodes that scan `tokens` sequentially.
fn seq_scans_of_tokens(conn: &mut DbConnection, statement: &str) -> Vec<String> {
    let plan: Plan = diesel::sql_query(format!("EXPLAIN (FORMAT JSON) {statement}"))
        .get_result(conn)
        .unwrap_or_else(|e| panic!("{e}: {statement}"));
    let mut found = Vec::new();
    let mut stack = vec![serde_json::from_str::<Value>(&plan.plan).unwrap()];
    while let Some(node) = stack.pop() {
        match node {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                if map.get("Node Type") == Some(&json!("Seq Scan"))
                    && map.get("Relation Name") == Some(&json!("tokens"))
                {
                    found.push(plan.plan.clone());
                }
                stack.extend(map.into_iter().map(|(_, v)| v));
            }
            _ => {}
        }
    }
    found
}

fn pairs(rows: &[Value], key: &str, value: &str) -> Vec<(String, i64)> {
    rows.iter()
        .map(|r| {
            (
                r[key].as_str().unwrap_or("?").to_string(),
                r[value].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The fixture: two users logged in through the API (so the server's own writes
/// are read back from a non-UTC session), plus rows with known ages.
async fn fixture(app: &TestApp) {
    app.create_user("user@example.com", &["user"]).await; // admin: 1 session, 2 tokens
    app.login_ok("user@example.com", USER_PASSWORD).await;
    app.login_ok("user@example.com", USER_PASSWORD).await;
    assert_error(
        app.login("user@example.com", "wrong-pass").await,
        401,
        "invalid_credentials",
    )
    .await;
    app.sql(&format!(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, created_at, expires_at, expired) VALUES
           ('old-1', 'h-old-1', 'access', 1, '{ADMIN_EMAIL}', NOW() - INTERVAL '31 hours', NOW() - INTERVAL '30 hours', false),
           ('old-2', 'h-old-2', 'access', 1, '{ADMIN_EMAIL}', NOW() - INTERVAL '31 hours', NOW() - INTERVAL '30 hours', false),
           ('marked', 'h-marked', 'access', 1, '{ADMIN_EMAIL}', NOW() - INTERVAL '2 hours', NOW() - INTERVAL '1 hour', true),
           ('gone', 'h-gone', 'access', 1, 'gone@example.com', NOW(), NOW() + INTERVAL '1 hour', false);
         UPDATE tokens SET revoked = true WHERE user_email = 'gone@example.com';
         INSERT INTO audit_events (event, user_email, ip_address, created_at) VALUES
           ('login_failed', 'a@example.com', '203.0.113.7', NOW() - INTERVAL '2 hours'),
           ('login_failed', 'a@example.com', '203.0.113.7', NOW() - INTERVAL '2 hours'),
           ('login_failed', 'b@example.com', '203.0.113.7', NOW() - INTERVAL '2 hours'),
           ('login_failed', 'c@example.com', '198.51.100.1', NOW() - INTERVAL '30 hours'),
           ('login_succeeded', 'a@example.com', '203.0.113.7', NOW() - INTERVAL '5 hours');"
    ));
}

/// Checks one statement's rows against the fixture; returns false for a statement
/// this test does not know (so a new query cannot go unchecked).
fn check(statement: &str, rows: &[Value]) -> bool {
    let has = |needle: &str| statement.contains(needle);
    if has("COUNT(*) AS active_tokens") {
        let mut got = pairs(rows, "user_email", "active_tokens");
        got.sort();
        assert_eq!(
            got,
            [(ADMIN_EMAIL.into(), 2), ("user@example.com".into(), 4)]
        );
    } else if has("SELECT COUNT(*) FROM tokens WHERE expires_at < NOW() - INTERVAL '24 hours'") {
        assert_eq!(rows, [json!({ "count": 2 })]);
    } else if has("JOIN sessions s") {
        assert_eq!(
            pairs(rows, "email", "active_sessions"),
            [("user@example.com".into(), 2), (ADMIN_EMAIL.into(), 1)]
        );
    } else if has("AS users") {
        assert_eq!(
            rows,
            [json!({ "user_agent": "(none)", "active_sessions": 3, "users": 2 })]
        );
    } else if has("END AS state") {
        let got: Vec<(String, String, i64)> = rows
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_string();
                (s("token_type"), s("state"), r["tokens"].as_i64().unwrap())
            })
            .collect();
        let want = [
            ("access", "active", 3),
            ("access", "expired", 3),
            ("access", "revoked", 1),
            ("refresh", "active", 3),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
            .collect();
        assert_eq!(got, want);
    } else if has("AS to_mark_expired") {
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (
                rows[0]["to_mark_expired"].as_i64(),
                rows[0]["to_delete"].as_i64()
            ),
            (Some(2), Some(2))
        );
    } else if has("WHERE user_email = 'user@example.com'") {
        assert_eq!(rows.len(), 4);
        assert!(rows
            .iter()
            .all(|r| r["revoked"] == false && r["expired"] == false));
        let types: Vec<&str> = rows
            .iter()
            .map(|r| r["token_type"].as_str().unwrap())
            .collect();
        assert_eq!(types.iter().filter(|t| **t == "refresh").count(), 2);
    } else if has("WHERE revoked = true") {
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["revoked_reason"], "(manual SQL)");
        assert!(rows[0]["revoked_at"].is_string(), "the trigger stamps it");
    } else if has("h.hour_utc") {
        assert_eq!(rows.len(), 24);
        let sum = |k: &str| rows.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
        // API: three logins and one failure now; fixture: one login and three failures.
        assert_eq!((sum("logins"), sum("failed_logins")), (4, 4));
        // Buckets are UTC hours whatever the session's zone.
        let bucket = (Utc::now() - Duration::hours(2))
            .duration_trunc(Duration::hours(1))
            .unwrap();
        let bucket = bucket.format("%Y-%m-%dT%H:00:00").to_string();
        let row = rows.iter().find(|r| r["hour_utc"] == bucket.as_str());
        assert_eq!(
            row.map(|r| r["failed_logins"].clone()),
            Some(json!(3)),
            "{bucket} in {rows:?}"
        );
    } else if has("AS accounts_tried") {
        let got: Vec<(String, i64, i64)> = rows
            .iter()
            .map(|r| {
                let ip = r["ip_address"].as_str().unwrap().to_string();
                (
                    ip,
                    r["failed_logins"].as_i64().unwrap(),
                    r["accounts_tried"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("203.0.113.7".into(), 3, 2), ("127.0.0.1".into(), 1, 1)]
        );
    } else {
        return false;
    }
    true
}

#[tokio::test]
async fn every_monitoring_query_answers_the_fixture_from_a_non_utc_session() {
    if !postgres_enabled("every_monitoring_query_answers_the_fixture_from_a_non_utc_session") {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    fixture(&app).await;
    let mut conn = app.db.connect();
    diesel::sql_query("SET TimeZone = 'America/New_York'")
        .execute(&mut conn)
        .unwrap();

    let statements = statements(MONITORING_SQL);
    assert!(statements.len() >= 10, "{statements:?}");
    for statement in &statements {
        assert!(
            statement.starts_with("SELECT"),
            "only reads run: {statement}"
        );
        let got = rows(&mut conn, statement);
        assert!(
            check(statement, &got),
            "no expected answer for: {statement}"
        );
    }

    // Any index that can serve a query on tokens must be usable: with sequential
    // scans priced out, none may remain.
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .unwrap();
    let contract_writes = [
        "UPDATE tokens SET revoked = true WHERE user_email = 'user@example.com'",
        "DELETE FROM tokens WHERE expires_at < NOW() - INTERVAL '24 hours'",
    ];
    // The per-type tally counts every row by design (the file says so).
    let whole_table = |s: &&str| s.contains("END AS state");
    let indexed = statements
        .iter()
        .map(String::as_str)
        .filter(|s| !whole_table(s));
    for statement in indexed.chain(contract_writes) {
        let scans = seq_scans_of_tokens(&mut conn, statement);
        assert!(scans.is_empty(), "{statement}\n{scans:?}");
    }

    // On a table big enough for the planner to care, the per-user queries pick an
    // index by themselves.
    diesel::sql_query("SET enable_seqscan = on")
        .execute(&mut conn)
        .unwrap();
    app.sql(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, created_at, expires_at, expired)
         SELECT 'bulk-' || g, 'h-bulk-' || g, 'access', 1, 'bulk' || (g % 500) || '@example.com',
                NOW() - INTERVAL '3 days', NOW() - INTERVAL '2 days', true
         FROM generate_series(1, 20000) AS g;
         ANALYZE tokens;",
    );
    let per_user = statements.iter().filter(|s| {
        s.contains("user_email = 'user@example.com'") || s.contains("AS active_tokens")
    });
    for statement in per_user.map(String::as_str).chain([contract_writes[0]]) {
        let scans = seq_scans_of_tokens(&mut conn, statement);
        assert!(scans.is_empty(), "{statement}\n{scans:?}");
    }
}

#[test]
fn the_splitter_ignores_semicolons_in_comments_and_strings() {
    let sql = "-- a; comment\nSELECT 'a;b' AS x;\n\n-- UPDATE t SET x = 1;\nSELECT 2;\n";
    assert_eq!(statements(sql), ["SELECT 'a;b' AS x", "SELECT 2"]);
}

/// Every (node type, relation) of a JSON plan.
fn plan_nodes(conn: &mut DbConnection, statement: &str) -> (Vec<(String, String)>, String) {
    let plan: Plan = diesel::sql_query(format!("EXPLAIN (FORMAT JSON) {statement}"))
        .get_result(conn)
        .unwrap_or_else(|e| panic!("{e}: {statement}"));
    let mut nodes = Vec::new();
    let mut stack = vec![serde_json::from_str::<Value>(&plan.plan).unwrap()];
    while let Some(node) = stack.pop() {
        match node {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                if let Some(kind) = map.get("Node Type").and_then(Value::as_str) {
                    let rel = map
                        .get("Relation Name")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    nodes.push((kind.to_string(), rel.to_string()));
                }
                stack.extend(map.into_iter().map(|(_, v)| v));
            }
            _ => {}
        }
    }
    (nodes, plan.plan)
}

#[tokio::test]
async fn the_validation_lookup_probes_indexes_among_100000_sessions_without_fresh_statistics() {
    let test =
        "the_validation_lookup_probes_indexes_among_100000_sessions_without_fresh_statistics";
    if !postgres_enabled(test) {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    // A burst into a young database: statistics say the tables are empty.
    app.sql(
        "INSERT INTO users (email, password_hash, full_name, roles, created_at, updated_at)
           SELECT 'burst' || g || '@example.com', 'x', 'Burst', 'user', now(), now()
           FROM generate_series(1, 2000) g;
         INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip_address, user_agent)
           SELECT u.id, now(), now(), now() + interval '7 days', '10.0.0.1', 'Mozilla/5.0'
           FROM generate_series(1, 50) r, users u;
         INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id,
                             created_at, expires_at, user_agent, ip_address)
           SELECT gen_random_uuid()::text, md5(s.id::text) || md5(s.id::text || 'x'), 'access',
                  s.user_id, 'burst@example.com', s.id, now(), now() + interval '15 minutes',
                  'Mozilla/5.0', '10.0.0.1'
           FROM sessions s;",
    );
    let sessions = app.sql_i64("SELECT COUNT(*) AS n FROM sessions");
    assert!(sessions >= 100_000, "{sessions}");
    let mut conn = app.db.connect();
    // The statement `repositories::token::find_contexts_by_hashes` builds.
    let lookup = "SELECT tokens.id, sessions.id, users.id FROM tokens \
         INNER JOIN users ON tokens.user_id = users.id \
         LEFT OUTER JOIN sessions ON tokens.session_id = sessions.id \
         WHERE tokens.token_hash = ANY(ARRAY['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])";
    let (nodes, plan) = plan_nodes(&mut conn, lookup);
    let scanned: Vec<_> = nodes
        .iter()
        .filter(|(kind, rel)| kind == "Seq Scan" && (rel == "tokens" || rel == "sessions"))
        .collect();
    assert!(scanned.is_empty(), "the lookup scans a table: {plan}");
    assert!(plan.contains("tokens_token_hash_key"), "{plan}");
    assert!(plan.contains("sessions_pkey"), "{plan}");
}

const MONITORING_SQLITE: &str = include_str!("../../scripts/monitoring-sqlite.sql");

#[tokio::test]
async fn the_sqlite_monitoring_queries_answer_on_the_default_backend() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("user@example.com", &["user"]).await;
    app.login_ok("user@example.com", USER_PASSWORD).await;
    app.login("user@example.com", "wrong-pass").await;
    let statements = statements(MONITORING_SQLITE);
    assert!(statements.len() >= 8, "{statements:?}");
    for statement in &statements {
        // Each runs; the first two are checked against the fixture.
        let n = app.sql_i64(&format!("SELECT COUNT(*) AS n FROM ({statement})"));
        assert!(n >= 0, "{statement}");
    }
    let users_with_tokens = app.sql_i64(&format!("SELECT COUNT(*) AS n FROM ({})", statements[0]));
    assert!(users_with_tokens >= 1);
    // A session whose tokens were revoked by hand leaves the live list.
    let live = |app: &TestApp| {
        app.sql_i64(&format!(
            "SELECT COALESCE(SUM(active_sessions), 0) AS n FROM ({})",
            statements[2]
        ))
    };
    let before = live(&app);
    app.sql("UPDATE tokens SET revoked = 1 WHERE user_email = 'user@example.com'");
    assert!(live(&app) < before, "{before}");
}
