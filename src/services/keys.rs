//! Key material: the encryption key (configured or a 0600 key file, checked
//! against the database), and the JWT signing keys — generated on first start,
//! stored encrypted, rotated by `tokenward keys rotate`, reloaded by every
//! instance, and retired once no unexpired token they signed remains.

pub use super::key_file::load_cipher;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::{JwtAlgorithm, Settings};
use crate::db::{Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::{NewSigningKey, SigningKeyRow};
use crate::repositories::{key as key_repo, token as token_repo};
use crate::security::crypto::Cipher;
use crate::security::jwt::{algorithm_name, parse_algorithm, KeyMaterial, KeyRing};
use crate::util;

const KEY_CHECK_NAME: &str = "encryption_key_check";
const KEY_CHECK_CONTEXT: &str = "tokenward:key-check";
const KEY_CHECK_PLAIN: &[u8] = b"tokenward encryption key check";
/// A superseded key is kept at least this long, so every instance has reloaded
/// the new signer before the old one can go.
const RETIRE_GRACE_SECS: i64 = 120;

fn key_context(algorithm: Algorithm) -> String {
    format!("tokenward:signing-key:{}", algorithm_name(algorithm))
}

/// The configured signing algorithm.
pub fn configured_algorithm(settings: &Settings) -> Algorithm {
    match settings.jwt_algorithm {
        JwtAlgorithm::HS256 => Algorithm::HS256,
        JwtAlgorithm::RS256 => Algorithm::RS256,
        JwtAlgorithm::ES256 => Algorithm::ES256,
        JwtAlgorithm::EdDSA => Algorithm::EdDSA,
    }
}

/// Checks that `cipher` is the key this database was set up with (recording it
/// on first start).
pub fn check_cipher(c: &mut DbConnection, cipher: &Cipher) -> AppResult<()> {
    match key_repo::find_state(c, KEY_CHECK_NAME)? {
        Some(sealed) => match cipher.decrypt(&sealed, KEY_CHECK_CONTEXT) {
            Ok(plain) if plain == KEY_CHECK_PLAIN => Ok(()),
            _ => Err(AppError::internal(
                "the encryption key does not match the one this database was set up with; \
                 start every instance with the same TOKENWARD_ENCRYPTION_KEY (or key file)",
            )),
        },
        None => {
            let sealed = cipher.encrypt(KEY_CHECK_PLAIN, KEY_CHECK_CONTEXT);
            key_repo::insert_state(c, KEY_CHECK_NAME, &sealed, util::now())?;
            Ok(())
        }
    }
}

fn open_row(row: &SigningKeyRow, cipher: &Cipher) -> AppResult<KeyMaterial> {
    let algorithm = parse_algorithm(&row.algorithm).ok_or_else(|| {
        AppError::internal(format!("signing key {} has an unknown algorithm", row.kid))
    })?;
    let secret = cipher
        .decrypt(&row.private_key, &key_context(algorithm))
        .map_err(|_| AppError::internal(format!("signing key {} cannot be decrypted", row.kid)))?;
    Ok(KeyMaterial {
        kid: row.kid.clone(),
        algorithm,
        secret,
    })
}

/// Stores a new key of `algorithm`; it becomes the signer on the next load.
pub fn insert_new_key(
    c: &mut DbConnection,
    algorithm: Algorithm,
    cipher: &Cipher,
) -> AppResult<KeyMaterial> {
    let m = KeyMaterial::generate(algorithm).map_err(AppError::internal)?;
    let public = m
        .public_jwk()
        .map_err(AppError::internal)?
        .and_then(|jwk| serde_json::to_string(&jwk).ok());
    key_repo::insert(
        c,
        &NewSigningKey {
            kid: m.kid.clone(),
            algorithm: algorithm_name(algorithm).to_string(),
            private_key: cipher.encrypt(&m.secret, &key_context(algorithm)),
            public_key: public,
            created_at: util::now(),
        },
    )?;
    tracing::info!(kid = %m.kid, algorithm = algorithm_name(algorithm), "generated a new signing key");
    Ok(m)
}

fn configured_secret(settings: &Settings) -> Option<KeyMaterial> {
    let secret = settings.jwt_secret.as_ref()?;
    let bytes = secret.expose_secret().as_bytes().to_vec();
    let digest = hex::encode(Sha256::digest(
        [b"tokenward-kid:".as_slice(), &bytes].concat(),
    ));
    Some(KeyMaterial {
        kid: format!("hs256-{}", &digest[..16]),
        algorithm: Algorithm::HS256,
        secret: bytes,
    })
}

/// Builds the ring from the database: the newest key of the configured
/// algorithm signs (generated when `create` and none exists), every other
/// unretired key still verifies. A configured HS256 secret signs instead of
/// stored HS256 keys, which are then not trusted.
pub fn load_key_ring(
    c: &mut DbConnection,
    settings: &Settings,
    cipher: &Cipher,
    create: bool,
) -> AppResult<KeyRing> {
    let algorithm = configured_algorithm(settings);
    let configured = configured_secret(settings).filter(|_| algorithm == Algorithm::HS256);
    let mut stored = Vec::new();
    for row in key_repo::find_all_active(c)? {
        let m = open_row(&row, cipher)?;
        if configured.is_some() && m.algorithm == Algorithm::HS256 {
            continue;
        }
        stored.push(m);
    }
    let current = match configured {
        Some(m) => m,
        None => match stored.iter().position(|m| m.algorithm == algorithm) {
            Some(i) => stored.remove(i),
            None if create => insert_new_key(c, algorithm, cipher)?,
            None => {
                return Err(AppError::internal(
                    "no signing key for the configured algorithm",
                ))
            }
        },
    };
    KeyRing::new(
        &current,
        &stored,
        settings.issuer.clone(),
        settings.audience.clone(),
    )
    .map_err(AppError::internal)
}

/// Retires keys older than the signer once no unexpired token they signed is
/// left and the signer has been around long enough for every instance to use it.
pub fn retire_unused(c: &mut DbConnection, signer_kid: &str) -> AppResult<Vec<String>> {
    let now = util::now();
    let rows = key_repo::find_all_active(c)?;
    let signer_created = rows
        .iter()
        .find(|r| r.kid == signer_kid)
        .map(|r| r.created_at);
    let mut retired = Vec::new();
    for row in rows.iter().filter(|r| r.kid != signer_kid) {
        let superseded_long_enough = match signer_created {
            Some(t) => row.created_at < t && now - t > chrono::Duration::seconds(RETIRE_GRACE_SECS),
            // The signer is a configured secret: stored keys only verify old tokens.
            None => true,
        };
        if superseded_long_enough && !token_repo::any_live_for_key(c, &row.kid, now)? {
            key_repo::retire(c, row.id, now)?;
            tracing::info!(kid = %row.kid, "retired a signing key");
            retired.push(row.kid.clone());
        }
    }
    Ok(retired)
}

/// Every signing key, for `tokenward keys list`.
pub fn list(c: &mut DbConnection) -> AppResult<Vec<SigningKeyRow>> {
    Ok(key_repo::find_all(c)?)
}

/// How often an instance rereads the signing keys in full (retirements).
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);
/// How often an instance checks (one small read) whether the keys changed.
const KEY_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The running instance's view of the keys, reloaded from the database.
pub struct KeyStore {
    db: Db,
    cipher: Arc<Cipher>,
    settings: Arc<Settings>,
    ring: RwLock<Arc<KeyRing>>,
    last_reload: Mutex<Instant>,
    /// `newest_active_id` at the last reload (None before the first poll).
    seen: Mutex<Option<Option<i64>>>,
}

impl KeyStore {
    /// Wraps the ring loaded at start-up.
    pub fn new(db: Db, cipher: Arc<Cipher>, settings: Arc<Settings>, ring: KeyRing) -> Self {
        Self {
            db,
            cipher,
            settings,
            ring: RwLock::new(Arc::new(ring)),
            last_reload: Mutex::new(Instant::now()),
            seen: Mutex::new(None),
        }
    }

    /// Keeps the ring current until the runtime stops: a one-row poll every
    /// second picks up rotations, a full reload every 30 s retirements.
    pub fn spawn_reloader(self: Arc<Self>) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(KEY_POLL_INTERVAL);
            tick.tick().await;
            let mut last_full = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                if last_full.elapsed() >= KEY_RELOAD_INTERVAL {
                    last_full = tokio::time::Instant::now();
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "could not reload signing keys");
                    }
                } else if let Err(e) = self.reload_if_rotated().await {
                    // Said once per full reload; a second-by-second poll stays quiet.
                    tracing::debug!(error = %e, "could not poll the signing keys");
                }
            }
        });
    }

    /// Reloads when a rotation (by another instance or `tokenward keys
    /// rotate`) changed the newest active key; polled every second, so a new
    /// signer is used within about a second.
    pub async fn reload_if_rotated(&self) -> AppResult<bool> {
        let newest = self.db.run(|c| Ok(key_repo::newest_active_id(c)?)).await?;
        let changed = match self.seen.lock() {
            // The first poll reloads too: a rotation may have come since start-up.
            Ok(mut seen) => seen.replace(newest) != Some(newest),
            Err(_) => false,
        };
        if changed {
            self.reload().await?;
        }
        Ok(changed)
    }

    /// The ring in force.
    pub fn current(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads from the database (new signer after a rotation, retired keys
    /// gone), retiring keys that have nothing left to verify.
    pub async fn reload(&self) -> AppResult<()> {
        if let Ok(mut t) = self.last_reload.lock() {
            *t = Instant::now();
        }
        let (settings, cipher) = (self.settings.clone(), self.cipher.clone());
        let ring = self
            .db
            .run(move |c| {
                let ring = load_key_ring(c, &settings, &cipher, false)?;
                if !retire_unused(c, ring.current_kid())?.is_empty() {
                    return load_key_ring(c, &settings, &cipher, false);
                }
                Ok(ring)
            })
            .await?;
        match self.ring.write() {
            Ok(mut r) => *r = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        Ok(())
    }

    /// Reloads unless that happened within `min_interval` (an unknown `kid`
    /// must not turn every forged token into a database round trip).
    pub async fn reload_if_due(&self, min_interval: Duration) -> bool {
        let due = self
            .last_reload
            .lock()
            .map(|t| t.elapsed() >= min_interval)
            .unwrap_or(false);
        due && self.reload().await.is_ok()
    }
}
