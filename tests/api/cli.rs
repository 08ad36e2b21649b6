//! The `tokenward` binary's subcommands, run as an operator would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

use crate::backend_tests;
use crate::helpers::*;

fn tokenward(
    db: &TestDatabase,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenward"));
    cmd.args(args)
        .current_dir(db.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env(
            "TOKENWARD_ENCRYPTION_KEY_FILE",
            db.dir.path().join("tokenward.key"),
        )
        .env("TOKENWARD_BCRYPT_COST", "4")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn migrate_user_create_and_keys_work_from_the_command_line(backend: Backend) {
    let db = std::sync::Arc::new(TestDatabase::new(backend));
    let out = tokenward(&db, &["migrate"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("migrations applied"));

    let out = tokenward(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Ward.Nurse@Example.com",
            "--role",
            "user",
            "--role",
            "ward-3",
        ],
        Some("cli-password-1\n"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ward.nurse@example.com"));
    let again = tokenward(
        &db,
        &["user", "create", "--email", "ward.nurse@example.com"],
        None,
        &[("TOKENWARD_USER_PASSWORD", "cli-password-2")],
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("already registered"),
        "{}",
        text(&again)
    );
    let weak = tokenward(
        &db,
        &["user", "create", "--email", "x@example.com"],
        Some("short\n"),
        &[],
    );
    assert!(!weak.status.success());
    assert!(text(&weak).contains("at least 12"), "{}", text(&weak));

    let out = tokenward(&db, &["keys", "rotate"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tokenward(&db, &["keys", "rotate"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = text(&tokenward(&db, &["keys", "list"], None, &[]));
    assert_eq!(listed.matches("rs256-").count(), 2, "{listed}");
    // The list says which key signs, and exactly one does.
    assert_eq!(listed.matches(" signs").count(), 1, "{listed}");
    assert!(
        listed.lines().nth(1).unwrap().ends_with("signs"),
        "{listed}"
    );
    // Another algorithm than the keys in use is refused unless confirmed.
    let ed = [("TOKENWARD_JWT_ALGORITHM", "EdDSA")];
    let refused = tokenward(&db, &["keys", "rotate"], None, &ed);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("--algorithm EdDSA"),
        "{}",
        text(&refused)
    );
    let unchanged = text(&tokenward(&db, &["keys", "list"], None, &[]));
    assert_eq!(unchanged, listed, "a refused rotation adds no key");

    // A server on that database lets the CLI-made user in, signing with the newest key.
    let settings = test_settings(&db);
    let app = start(db.clone(), settings).await;
    let t = app
        .login_ok("ward.nurse@example.com", "cli-password-1")
        .await;
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    let kid = jsonwebtoken::decode_header(&t.access).unwrap().kid.unwrap();
    assert!(
        listed.lines().nth(1).unwrap().starts_with(&kid),
        "newest key signs: {kid}\n{listed}"
    );

    // A rotation from the shell is picked up by the running server within seconds.
    let out = tokenward(&db, &["keys", "rotate"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let newest = text(&tokenward(&db, &["keys", "list"], None, &[]))
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let picked_up = eventually(std::time::Duration::from_secs(5), || async {
        let t = app
            .login_ok("ward.nurse@example.com", "cli-password-1")
            .await;
        jsonwebtoken::decode_header(&t.access)
            .unwrap()
            .kid
            .as_deref()
            == Some(newest.as_str())
    })
    .await;
    assert!(picked_up, "the server kept signing with the old key");

    // A reset from the shell ends the session and prints a temporary password once.
    let out = tokenward(
        &db,
        &[
            "user",
            "reset-password",
            "--email",
            "Ward.Nurse@example.com",
        ],
        None,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    let temporary = said
        .lines()
        .find_map(|l| l.strip_prefix("temporary password (shown once): "))
        .unwrap_or_else(|| panic!("{said}"))
        .trim()
        .to_string();
    assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
    let body: serde_json::Value = app
        .login("ward.nurse@example.com", &temporary)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["password_change_required"], true, "{body}");
    let unknown = tokenward(
        &db,
        &["user", "reset-password", "--email", "nobody@example.com"],
        None,
        &[],
    );
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("no account"), "{}", text(&unknown));
}

async fn bad_configuration_is_refused_with_a_clear_message(backend: Backend) {
    let db = TestDatabase::new(backend);
    let out = tokenward(
        &db,
        &["serve"],
        None,
        &[
            ("TOKENWARD_JWT_ALGORITHM", "HS256"),
            ("TOKENWARD_JWT_SECRET", "short"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("at least 32 bytes"), "{}", text(&out));
    let out = tokenward(
        &db,
        &["serve"],
        None,
        &[("TOKENWARD_JWT_ALGORITHM", "none")],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = tokenward(&db, &["migrate"], None, &[("DATABASE_URL", "mysql://x")]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sqlite:// or postgres://"),
        "{}",
        text(&out)
    );
    let out = tokenward(
        &db,
        &["migrate"],
        None,
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot connect to the database"),
        "{}",
        text(&out)
    );
    let out = tokenward(&db, &["--help"], None, &[]);
    assert!(out.status.success());
    for sub in ["serve", "migrate", "user", "keys"] {
        assert!(text(&out).contains(sub), "{sub}");
    }
}

#[test]
fn commands_started_elsewhere_create_nothing_and_say_where_they_looked() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["cleanup"][..],
        &["keys", "list"][..],
        &["keys", "rotate"][..],
        &["user", "reset-password", "--email", "a@example.com"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tokenward"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let said = text(&out);
        assert!(said.contains("no database at"), "{args:?}: {said}");
        assert!(
            said.contains("tokenward.db") && said.contains("DATABASE_URL"),
            "{said}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left files behind: {left:?}");
    }
}

backend_tests!(
    migrate_user_create_and_keys_work_from_the_command_line,
    bad_configuration_is_refused_with_a_clear_message,
);
