//! The cleanup job, called directly: what it marks, deletes and keeps, batches
//! smaller than the work, and on PostgreSQL one instance at a time.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use tokenward::jobs;
use tokenward::repositories::cleanup::CLEANUP_LOCK_KEY;
use tokenward::services::cleanup::{CleanupPolicy, CleanupReport, CleanupService};

use crate::backend_tests;
use crate::helpers::*;

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A cleanup service of its own over the app's database, as a second process would have.
fn cleanup_service(app: &TestApp, batch_size: i64) -> CleanupService {
    let mut settings = app.settings.clone();
    settings.cleanup_batch_size = batch_size;
    let (_, db) = tokenward::startup::connect(&settings, 1).unwrap();
    CleanupService::new(db, CleanupPolicy::from_settings(&settings))
}

async fn run(service: &CleanupService) -> CleanupReport {
    jobs::cleanup::run(service).await.unwrap()
}

fn add_session(
    app: &TestApp,
    id: i64,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
) {
    let created = ts(Utc::now().naive_utc() - Duration::days(3));
    let (revoked, at) = match revoked_at {
        Some(t) => ("true", format!("'{}'", ts(t))),
        None => ("false", "NULL".to_string()),
    };
    app.sql(&format!(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked, revoked_at) \
         VALUES ({id}, (SELECT id FROM users WHERE email = '{ADMIN_EMAIL}'), '{created}', '{created}', \
         '{}', {revoked}, {at})",
        ts(expires_at)
    ));
}

fn add_tokens(
    app: &TestApp,
    tag: &str,
    count: usize,
    session: i64,
    expires_at: NaiveDateTime,
    revoked: bool,
) {
    let created = ts(Utc::now().naive_utc() - Duration::days(3));
    let rows: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "('{tag}-{i}', 'hash-{tag}-{i}', 'access', (SELECT id FROM users WHERE email = '{ADMIN_EMAIL}'), \
                 '{ADMIN_EMAIL}', {session}, '{created}', '{}', {revoked})",
                ts(expires_at)
            )
        })
        .collect();
    app.sql(&format!(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id, \
         created_at, expires_at, revoked) VALUES {}",
        rows.join(", ")
    ));
}

fn add_audit(app: &TestApp, count: usize, at: NaiveDateTime) {
    for _ in 0..count {
        app.sql(&format!(
            "INSERT INTO audit_events (event, created_at, details) VALUES ('logout', '{}', '{{}}')",
            ts(at)
        ));
    }
}

async fn cleanup_deletes_past_retention_marks_the_rest_and_keeps_the_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let now = Utc::now().naive_utc();
    let h = Duration::hours;
    add_session(&app, 1001, now - h(30), None); // ended 30 h ago: goes with its tokens
    add_session(&app, 1002, now + h(120), Some(now - h(30))); // revoked, but holds a token
    add_session(&app, 1003, now - h(2), None); // ended within the retention
    add_session(&app, 1004, now + h(120), Some(now - h(48))); // revoked long ago, empty
    add_session(&app, 1005, now + h(24), None); // live
    add_tokens(&app, "old", 5, 1001, now - h(30), false);
    add_tokens(&app, "kept-revoked", 1, 1002, now + h(120), true);
    add_tokens(&app, "recent", 7, 1005, now - h(1), false);
    add_tokens(&app, "live", 4, 1005, now + h(1), false);
    add_audit(&app, 4, now - Duration::days(100));
    add_audit(&app, 2, now - Duration::days(10));

    // Batches of 3: every step needs several statements.
    let service = cleanup_service(&app, 3);
    let report = run(&service).await;
    assert!(!report.skipped);
    assert_eq!(report.tokens_deleted, 5, "{report:?}");
    assert_eq!(report.tokens_marked, 7, "{report:?}");
    assert_eq!(report.sessions_deleted, 2, "{report:?}");
    assert_eq!(report.audit_events_deleted, 4, "{report:?}");
    // delete 3+2, mark 3+3+1, sessions 2, audit 3+1.
    assert_eq!(report.statements, 8, "{report:?}");
    assert!(report.slowest.is_some());

    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE jti LIKE 'old-%'"),
        0
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE expired = true"),
        7
    );
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS n FROM tokens WHERE jti LIKE 'recent-%' AND expired = true"
        ),
        7
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE expired = false AND (jti LIKE 'live-%' OR jti LIKE 'kept-%')"),
        5
    );
    let sessions = app
        .sql_i64("SELECT COUNT(*) AS n FROM sessions WHERE id IN (1001, 1002, 1003, 1004, 1005)");
    assert_eq!(sessions, 3);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM sessions WHERE id IN (1001, 1004)"),
        0
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'logout'"),
        2
    );
    // The login's own rows are untouched and its token still works.
    assert_eq!(app.validate(&admin.access).await.status(), StatusCode::OK);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'login_succeeded'"),
        1
    );

    // A second pass finds nothing to do: one short statement per step.
    let again = run(&service).await;
    assert_eq!(again.rows_deleted() + again.tokens_marked, 0, "{again:?}");
    assert_eq!(again.statements, 4);
}

async fn a_token_retention_of_zero_deletes_every_expired_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = Utc::now().naive_utc();
    add_session(&app, 2001, now + Duration::hours(1), None);
    add_tokens(
        &app,
        "just-expired",
        4,
        2001,
        now - Duration::minutes(5),
        false,
    );
    add_tokens(&app, "live", 2, 2001, now + Duration::minutes(5), false);
    let mut settings = app.settings.clone();
    settings.token_retention_hours = 0;
    let (_, db) = tokenward::startup::connect(&settings, 1).unwrap();
    let report = run(&CleanupService::new(
        db,
        CleanupPolicy::from_settings(&settings),
    ))
    .await;
    assert_eq!(
        (report.tokens_deleted, report.tokens_marked),
        (4, 0),
        "{report:?}"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE jti LIKE 'live-%'"),
        2
    );
}

/// One token row in the order given, so rows of different ages interleave by id.
struct TokenRow<'a> {
    jti: String,
    session: i64,
    expires_at: NaiveDateTime,
    revoked: bool,
    expired: &'a str,
}

fn add_token_rows(app: &TestApp, rows: &[TokenRow]) {
    let created = ts(Utc::now().naive_utc() - Duration::days(3));
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "('{jti}', 'hash-{jti}', 'access', (SELECT id FROM users WHERE email = '{ADMIN_EMAIL}'), \
                 '{ADMIN_EMAIL}', {session}, '{created}', '{expires}', {revoked}, {expired})",
                jti = r.jti,
                session = r.session,
                expires = ts(r.expires_at),
                revoked = r.revoked,
                expired = r.expired,
            )
        })
        .collect();
    app.sql(&format!(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id, \
         created_at, expires_at, revoked, expired) VALUES {}",
        values.join(", ")
    ));
}

async fn small_batches_over_interleaved_ages_touch_exactly_the_due_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = Utc::now().naive_utc();
    let h = Duration::hours;
    // Timestamps shared by several rows, so batch boundaries fall inside runs of
    // equal timestamps and the walk has to order them by id.
    let (old_a, old_b) = (now - h(30), now - h(26));
    let (recent_a, recent_b) = (now - h(1), now - h(2));
    add_session(&app, 5000, now + h(48), None); // live, holds the interleaved tokens
    let mut rows = Vec::new();
    for i in 0..33 {
        let (kind, expires_at) = match i % 3 {
            0 => ("old", if i % 2 == 0 { old_a } else { old_b }),
            1 => ("recent", if i % 2 == 0 { recent_a } else { recent_b }),
            _ => ("live", now + h(1)),
        };
        rows.push(TokenRow {
            jti: format!("{kind}-{i}"),
            session: 5000,
            expires_at,
            revoked: i % 4 == 0,
            expired: "false",
        });
        if i % 11 == 0 {
            // Already marked by an earlier pass: neither counted nor touched again.
            rows.push(TokenRow {
                jti: format!("premarked-{i}"),
                session: 5000,
                expires_at: recent_a,
                revoked: false,
                expired: "true",
            });
        }
    }
    add_token_rows(&app, &rows);

    // Ended sessions of two kinds, every other one still holding a token that
    // keeps it; all expired ones share one expiry, all revoked ones one revocation.
    let mut holders = Vec::new();
    for id in 5001..=5010 {
        add_session(&app, id, old_a, None);
        if id % 2 == 0 {
            holders.push(id);
        }
    }
    for id in 5101..=5108 {
        add_session(&app, id, now + h(120), Some(now - h(48)));
        if id % 2 == 0 {
            holders.push(id);
        }
    }
    add_session(&app, 5201, now - h(2), None); // ended within the retention
    add_session(&app, 5202, now + h(120), Some(now - h(2))); // revoked within it
    let holding: Vec<TokenRow> = holders
        .iter()
        .map(|&id| TokenRow {
            jti: format!("holder-{id}"),
            session: id,
            expires_at: now + h(100),
            revoked: true,
            expired: "false",
        })
        .collect();
    add_token_rows(&app, &holding);

    // Audit events old and new alternating, the old ones in two runs of equal time.
    for i in 0..14 {
        let at = match i % 3 {
            0 => now - Duration::days(10),
            1 => now - Duration::days(100),
            _ => now - Duration::days(120),
        };
        add_audit(&app, 1, at);
    }

    let service = cleanup_service(&app, 4);
    let report = run(&service).await;
    // 11 old tokens, 11 recent ones, 5 + 4 empty ended sessions, 9 old audit events.
    assert_eq!(report.tokens_deleted, 11, "{report:?}");
    assert_eq!(report.tokens_marked, 11, "{report:?}");
    assert_eq!(report.sessions_deleted, 9, "{report:?}");
    assert_eq!(report.audit_events_deleted, 9, "{report:?}");
    // Every step: full batches, then one short one (11 = 4+4+3, 9 = 4+4+1); the
    // marking walk covers the 3 premarked rows as well (14 = 4+4+4+2).
    assert_eq!(report.statements, 3 * 3 + 4, "{report:?}");

    let count = |q: &str| app.sql_i64(&format!("SELECT COUNT(*) AS n FROM tokens WHERE {q}"));
    assert_eq!(count("jti LIKE 'old-%'"), 0);
    assert_eq!(count("jti LIKE 'recent-%' AND expired = true"), 11);
    assert_eq!(count("jti LIKE 'recent-%'"), 11);
    assert_eq!(count("jti LIKE 'premarked-%' AND expired = true"), 3);
    assert_eq!(count("jti LIKE 'live-%' AND expired = false"), 11);
    assert_eq!(count("jti LIKE 'holder-%' AND expired = false"), 9);
    assert_eq!(count("expired = true"), 14);
    let kept: Vec<String> = holders
        .iter()
        .chain(&[5000, 5201, 5202])
        .map(i64::to_string)
        .collect();
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS n FROM sessions WHERE id IN ({})",
            kept.join(", ")
        )),
        12
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM sessions WHERE id BETWEEN 5001 AND 5108"),
        9
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'logout'"),
        5
    );

    // The same service starts marking where its last run stopped: one short
    // statement per step.
    let again = run(&service).await;
    assert_eq!(again.rows_deleted() + again.tokens_marked, 0, "{again:?}");
    assert_eq!(again.statements, 4);
}

backend_tests!(
    cleanup_deletes_past_retention_marks_the_rest_and_keeps_the_live,
    a_token_retention_of_zero_deletes_every_expired_token,
    small_batches_over_interleaved_ages_touch_exactly_the_due_rows,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_only_one_instance_cleans_at_a_time() {
    if !postgres_enabled("on_postgres_only_one_instance_cleans_at_a_time") {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let now = Utc::now().naive_utc();
    add_session(&app, 3001, now + Duration::hours(1), None);
    app.sql(&format!(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id, created_at, expires_at) \
         SELECT 'bulk-' || g, 'bulk-hash-' || g, 'access', 1, '{ADMIN_EMAIL}', 3001, \
                NOW() - INTERVAL '3 days', NOW() - INTERVAL '2 days' \
         FROM generate_series(1, 2000) AS g"
    ));

    // Another instance holds the lock: this run does nothing.
    let mut other = app.db.connect();
    other
        .batch_execute(&format!("SELECT pg_advisory_lock({CLEANUP_LOCK_KEY})"))
        .unwrap();
    let first = cleanup_service(&app, 50);
    let report = run(&first).await;
    assert!(report.skipped, "{report:?}");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE jti LIKE 'bulk-%'"),
        2000
    );
    other
        .batch_execute(&format!("SELECT pg_advisory_unlock({CLEANUP_LOCK_KEY})"))
        .unwrap();

    // Two racing instances: the rows are deleted exactly once between them, and
    // one of the two found the lock taken or nothing left to do.
    let second = cleanup_service(&app, 50);
    let (a, b) = tokio::join!(run(&first), run(&second));
    assert_eq!(a.tokens_deleted + b.tokens_deleted, 2000, "{a:?} {b:?}");
    let idle = |r: &CleanupReport| r.skipped || r.tokens_deleted == 0;
    assert!(idle(&a) || idle(&b), "{a:?} {b:?}");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE jti LIKE 'bulk-%'"),
        0
    );
}
