//! Criterion micro-benchmarks of the per-request pieces of validation: JWT
//! verification per algorithm, the token lookup on each backend, and the whole
//! double validation (signature + database) as the bearer extractor runs it.
//!
//! `cargo bench --bench micro` (PostgreSQL cases need TOKENWARD_BENCH_POSTGRES_URL,
//! e.g. postgres://postgres@127.0.0.1:5432/postgres; a scratch database is made there).

// A benchmark harness, not server code: a broken fixture should stop it loudly.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::type_complexity
)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use jsonwebtoken::Algorithm;
use tokenward::config::Settings;
use tokenward::db::{self, DbConnection};
use tokenward::security::hashing::token_hash;
use tokenward::security::jwt::{AccessClaims, KeyMaterial, KeyRing};
use tokenward::services::issuance::{Lifetimes, TokenIssuer};
use tokenward::services::keys::{self, KeyStore};
use tokenward::services::validation::TokenValidator;
use tokenward::services::validation_cache::ValidationCache;
use tokenward::services::ClientMeta;

fn claims(now: i64) -> AccessClaims {
    AccessClaims {
        iss: "tokenward".into(),
        aud: "tokenward".into(),
        sub: "1".into(),
        email: "bench@example.com".into(),
        roles: vec!["user".into()],
        sid: "1".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        nbf: now,
        exp: now + 3600,
        token_type: "access".into(),
    }
}

/// A fresh key ring for each algorithm this build can generate keys for.
fn rings() -> Vec<(Algorithm, KeyRing)> {
    [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ]
    .into_iter()
    .filter_map(|alg| {
        let m = KeyMaterial::generate(alg).ok()?;
        let ring = KeyRing::new(&m, &[], "tokenward".into(), "tokenward".into()).ok()?;
        Some((alg, ring))
    })
    .collect()
}

fn jwt_verify(c: &mut Criterion) {
    let now = chrono::Utc::now().timestamp();
    let mut group = c.benchmark_group("jwt_verify");
    for (alg, ring) in rings() {
        let Ok(token) = ring.sign(&claims(now)) else {
            continue;
        };
        group.bench_function(format!("{alg:?}"), |b| {
            b.iter(|| ring.verify_access(&token, now))
        });
    }
    group.finish();
}

/// Signing one access token per algorithm: the CPU cost that bounds login and
/// refresh throughput.
fn jwt_sign(c: &mut Criterion) {
    let now = chrono::Utc::now().timestamp();
    let mut group = c.benchmark_group("jwt_sign");
    let claims = claims(now);
    for (alg, ring) in rings() {
        group.bench_function(format!("{alg:?}"), |b| b.iter(|| ring.sign(&claims)));
    }
    group.finish();
}

/// A migrated scratch database with one user, session and `n` access tokens;
/// returns the settings, the pool handle and one issued token.
struct Fixture {
    settings: Settings,
    service: TokenValidator,
    token: String,
    hash: String,
    db: db::Db,
    _dir: tempfile::TempDir,
    pg_name: Option<(String, String)>,
}

fn fixture(
    rt: &tokio::runtime::Runtime,
    url_for: impl FnOnce(&std::path::Path) -> (String, Option<(String, String)>),
) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (url, pg_name) = url_for(dir.path());
    let settings = Settings {
        database_url: url,
        encryption_key_file: dir.path().join("key"),
        bcrypt_cost: 4,
        db_pool_size: 4,
        bootstrap_admin_email: Some("bench@example.com".into()),
        bootstrap_admin_password: Some("bench-password".to_string().into()),
        ..Settings::default()
    };
    let (pool, db) = tokenward::startup::connect(&settings, settings.db_pool_size)
        .unwrap_or_else(|e| panic!("{e}"));
    let cipher = keys::load_cipher(&settings).unwrap_or_else(|e| panic!("{e}"));
    let ring = db::migrate_locked(&pool, |c| {
        keys::check_cipher(c, &cipher)?;
        let ring = keys::load_key_ring(c, &settings, &cipher, true)?;
        tokenward::services::user::bootstrap_admin(
            c,
            Some("bench@example.com"),
            Some("bench-password"),
            4,
            &settings.password_policy(),
        )?;
        Ok(ring)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(KeyStore::new(
        db.clone(),
        Arc::new(cipher),
        Arc::new(settings.clone()),
        ring,
    ));
    let lifetimes = Lifetimes {
        access: 3600,
        refresh: 86400,
        session_max: 86400,
    };
    let lookups = {
        let _runtime = rt.enter();
        tokenward::services::lookup::TokenLookups::start(db.clone(), 2)
    };
    let service = TokenValidator::new(
        db.clone(),
        store.clone(),
        Arc::new(ValidationCache::new(Duration::ZERO)),
        lookups,
    );
    let svc = TokenIssuer::new(store, lifetimes);
    // Seeding signs 2000 pairs, longer than a request's deadline in a debug
    // build (`cargo test` runs the benches once), so it runs without one.
    let token = rt
        .block_on(db.run_dedicated(move |c| {
            let user = tokenward::repositories::user::find_by_email(c, "bench@example.com")?
                .ok_or(tokenward::errors::AppError::NotFound)?;
            let now = tokenward::util::now();
            let end = now + chrono::Duration::seconds(86400);
            let session = tokenward::repositories::session::insert(
                c,
                &tokenward::models::NewSession {
                    user_id: user.id,
                    created_at: now,
                    last_seen_at: now,
                    expires_at: end,
                    ip_address: None,
                    user_agent: None,
                    device_name: None,
                },
            )?;
            // Other sessions' tokens around it, so the lookup is not on a tiny table.
            let mut last = None;
            for _ in 0..2000 {
                last =
                    Some(svc.issue_pair(c, &user, session.id, end, &ClientMeta::default(), now)?);
            }
            last.map(|p| p.access_token)
                .ok_or(tokenward::errors::AppError::NotFound)
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    let hash = token_hash(&token);
    Fixture {
        settings,
        service,
        token,
        hash,
        db,
        _dir: dir,
        pg_name,
    }
}

fn backends() -> Vec<(
    &'static str,
    Box<dyn FnOnce(&std::path::Path) -> (String, Option<(String, String)>)>,
)> {
    let mut v: Vec<(
        &'static str,
        Box<dyn FnOnce(&std::path::Path) -> (String, Option<(String, String)>)>,
    )> = vec![(
        "sqlite",
        Box::new(|dir: &std::path::Path| (format!("sqlite://{}/bench.db", dir.display()), None)),
    )];
    if let Ok(base) = std::env::var("TOKENWARD_BENCH_POSTGRES_URL") {
        v.push((
            "postgres",
            Box::new(move |_: &std::path::Path| {
                let name = format!("tokenward_micro_{}", std::process::id());
                let mut admin = PgConnection::establish(&base).unwrap_or_else(|e| panic!("{e}"));
                let _ = admin.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE); CREATE DATABASE {name}"
                ));
                let prefix = base
                    .rsplit_once('/')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or(base.clone());
                (format!("{prefix}/{name}"), Some((base, name)))
            }),
        ));
    }
    v
}

fn database(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    for (name, url_for) in backends() {
        let f = fixture(&rt, url_for);
        let mut group = c.benchmark_group(format!("validation/{name}"));
        let hash = f.hash.clone();
        let db = f.db.clone();
        group.bench_function("token_lookup (repository, via Db::run)", |b| {
            b.to_async(&rt).iter(|| {
                let hash = hash.clone();
                db.run(move |conn: &mut DbConnection| {
                    Ok(tokenward::repositories::token::find_context_by_hash(
                        conn, &hash,
                    )?)
                })
            })
        });
        let svc = f.service.clone();
        let token = f.token.clone();
        group.bench_function("authenticate (signature + database)", |b| {
            b.to_async(&rt).iter(|| svc.authenticate(&token))
        });
        group.finish();
        let _ = &f.settings;
        if let Some((base, name)) = &f.pg_name {
            drop(f.service);
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

criterion_group!(benches, jwt_sign, jwt_verify, database);
criterion_main!(benches);
