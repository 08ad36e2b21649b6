//! The encryption key file: created (mode 0600) at first start when no key
//! is configured, and refused when other users could read it.

use std::io::Write;
use std::path::Path;

use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::security::crypto::{generate_key_base64, Cipher};

/// The encryption key from the settings, or from (a newly created) key file.
pub fn load_cipher(settings: &Settings) -> Result<Cipher, String> {
    if let Some(key) = &settings.encryption_key {
        return Cipher::from_base64(key.expose_secret()).map_err(|_| {
            "TOKENWARD_ENCRYPTION_KEY must be 32 bytes in standard base64 (openssl rand -base64 32)"
                .to_string()
        });
    }
    let path = &settings.encryption_key_file;
    if !path.exists() {
        create_key_file(path)?;
    }
    check_mode(path)?;
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
            file.write_all(format!("{}\n", generate_key_base64()).as_bytes())
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

/// Refuses a key file that others may read (as ssh does with private keys).
#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "the key file {} can be read by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path) -> Result<(), String> {
    Ok(())
}
