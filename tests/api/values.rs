//! Token kinds, revocation reasons and roles travel through each database as
//! the same words the tables always held.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use tokenward::models::{RevokeReason, Roles, TokenKind};

use crate::backend_tests;
use crate::helpers::*;

async fn typed_values_are_stored_as_their_words(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    for kind in [
        TokenKind::Access,
        TokenKind::Refresh,
        TokenKind::Challenge,
        TokenKind::Ws,
    ] {
        let back: TokenKind = diesel::select(kind.into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(back, kind);
        let word: String = diesel::select(kind.into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(word, kind.as_str());
    }
    for reason in [
        RevokeReason::Rotated,
        RevokeReason::LogoutAll,
        RevokeReason::PasswordChange,
        RevokeReason::Rfc7009,
        RevokeReason::Other("manual".into()),
    ] {
        let back: RevokeReason = diesel::select(reason.clone().into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(back, reason);
    }
    // A reason an admin wrote by hand in SQL reads back as itself.
    let hand: RevokeReason = diesel::select(sql::<Text>("'by hand'"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(hand.as_str(), "by hand");
    let unknown = diesel::select(sql::<Text>("'bogus'")).get_result::<TokenKind>(&mut conn);
    assert!(unknown.is_err(), "an unknown kind is refused, not guessed");

    let roles = Roles::from_names(["ward-7", "admin", "ward-7"]);
    let word: String = diesel::select(roles.clone().into_sql::<Text>())
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(word, "ward-7,admin");
    let back: Roles = diesel::select(sql::<Text>("'user,,service'"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(back.names(), ["user", "service"]);
}

async fn roles_reach_the_users_table_as_comma_separated_text(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["ward-7", "user", "ward-7"])
        .await;
    let stored = app.sql_i64(
        "SELECT COUNT(*) AS n FROM users \
         WHERE email = 'nurse@example.com' AND roles = 'ward-7,user'",
    );
    assert_eq!(stored, 1);
}

backend_tests!(
    typed_values_are_stored_as_their_words,
    roles_reach_the_users_table_as_comma_separated_text,
);
