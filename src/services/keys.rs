//! Key material at start-up: the encryption key (configured or a 0600 key file,
//! checked against the database), and the JWT signing key ring.

use std::io::Write;
use std::path::Path;

use jsonwebtoken::Algorithm;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::models::NewSigningKey;
use crate::repositories::key as key_repo;
use crate::security::crypto::{generate_key_base64, Cipher};
use crate::security::hashing::random_bytes;
use crate::security::jwt::{KeyMaterial, KeyRing};
use crate::util;

const KEY_CHECK_NAME: &str = "encryption_key_check";
const KEY_CHECK_CONTEXT: &str = "tokenward:key-check";
const KEY_CHECK_PLAIN: &[u8] = b"tokenward encryption key check";
const HS256_CONTEXT: &str = "tokenward:signing-key:HS256";

/// The encryption key from the settings, or from (a newly created) key file.
pub fn load_cipher(settings: &Settings) -> Result<Cipher, String> {
    if let Some(key) = &settings.encryption_key {
        return Cipher::from_base64(key.expose_secret())
            .map_err(|_| "TOKENWARD_ENCRYPTION_KEY must be 32 bytes in standard base64 (openssl rand -base64 32)".to_string());
    }
    let path = &settings.encryption_key_file;
    if !path.exists() {
        create_key_file(path)?;
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    Cipher::from_base64(&text).map_err(|_| {
        format!(
            "the key file {} does not hold 32 bytes of base64",
            path.display()
        )
    })
}

fn create_key_file(path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let key = generate_key_base64();
            file.write_all(format!("{key}\n").as_bytes())
                .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new encryption key file");
            Ok(())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!(
            "cannot create the key file {}: {e}",
            path.display()
        )),
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

/// Builds the signing key ring: the configured HS256 secret, or the stored one
/// (generated on first start), plus any older stored keys still accepted.
pub fn load_key_ring(
    c: &mut DbConnection,
    settings: &Settings,
    cipher: &Cipher,
) -> AppResult<KeyRing> {
    let mut stored = Vec::new();
    for row in key_repo::find_active(c, "HS256")? {
        let secret = cipher
            .decrypt(&row.private_key, HS256_CONTEXT)
            .map_err(|_| {
                AppError::internal(format!("signing key {} cannot be decrypted", row.kid))
            })?;
        stored.push(KeyMaterial {
            kid: row.kid,
            algorithm: Algorithm::HS256,
            secret,
        });
    }
    let current = match &settings.jwt_secret {
        Some(secret) => {
            let bytes = secret.expose_secret().as_bytes().to_vec();
            let digest = hex::encode(Sha256::digest(
                [b"tokenward-kid:".as_slice(), &bytes].concat(),
            ));
            KeyMaterial {
                kid: format!("hs256-{}", &digest[..16]),
                algorithm: Algorithm::HS256,
                secret: bytes,
            }
        }
        None if !stored.is_empty() => stored.remove(0),
        None => {
            let secret = random_bytes(64);
            let kid = format!("hs256-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
            key_repo::insert(
                c,
                &NewSigningKey {
                    kid: kid.clone(),
                    algorithm: "HS256".into(),
                    private_key: cipher.encrypt(&secret, HS256_CONTEXT),
                    public_key: None,
                    created_at: util::now(),
                },
            )?;
            KeyMaterial {
                kid,
                algorithm: Algorithm::HS256,
                secret,
            }
        }
    };
    // A configured secret replaces the stored ones outright: they are not trusted
    // beside it, so switching to a shared secret ends tokens signed before.
    let older = if settings.jwt_secret.is_some() {
        Vec::new()
    } else {
        stored
    };
    Ok(KeyRing::new(
        &current,
        &older,
        settings.issuer.clone(),
        settings.audience.clone(),
    ))
}
