//! SQLite's plan of the validation lookup does not depend on statistics
//! taken while the tables were tiny: a server start drops them.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::*;

#[derive(QueryableByName)]
struct Step {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The lookup `repositories::token::find_contexts_by_hashes` builds, for 40 hashes.
fn lookup_plan(app: &TestApp) -> String {
    let hashes: Vec<String> = (0..40).map(|i| format!("'{i:064x}'")).collect();
    let lookup = format!(
        "EXPLAIN QUERY PLAN SELECT tokens.id, sessions.id, users.id FROM tokens \
         INNER JOIN users ON tokens.user_id = users.id \
         LEFT OUTER JOIN sessions ON tokens.session_id = sessions.id \
         WHERE tokens.token_hash IN ({})",
        hashes.join(", ")
    );
    let mut conn = app.db.connect();
    let steps: Vec<Step> = diesel::sql_query(lookup).load(&mut conn).unwrap();
    steps
        .into_iter()
        .map(|s| s.detail)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn statistics_of_tiny_tables_do_not_survive_a_restart_on_sqlite() {
    let app = spawn_app(Backend::Sqlite).await;
    // Statistics taken with one user, then the tables grow past them.
    app.sql("ANALYZE;");
    app.sql(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
         INSERT INTO users (email, password_hash, created_at, updated_at)
           SELECT 'grown' || n || '@example.com', 'x', datetime('now'), datetime('now') FROM g;
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
         INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, created_at, expires_at)
           SELECT 'grown-' || n, printf('%064x', n + 1000), 'access', 1, 'x',
                  datetime('now'), datetime('now', '+1 hour') FROM g;",
    );
    let stale = lookup_plan(&app);
    assert!(
        stale.contains("SCAN users"),
        "the stale statistics mislead: {stale}"
    );

    app.stop().await;
    let again = start(app.db.clone(), app.settings.clone()).await;
    let plan = lookup_plan(&again);
    assert!(
        plan.contains("SEARCH tokens USING INDEX tokens_token_hash_key"),
        "{plan}"
    );
    assert!(
        plan.contains("SEARCH users USING INTEGER PRIMARY KEY"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN"), "{plan}");
    // The server answers with its lookups as before.
    let admin = again.admin().await.access;
    assert_eq!(
        again.validate(&admin).await.status(),
        reqwest::StatusCode::OK
    );
}
