//! Encryption at rest (AES-256-GCM) for generated secrets and private keys.
//! Ciphertext is stored as base64(nonce || ciphertext || tag).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::hashing::random_bytes;

/// Why encryption or decryption failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key is not 32 bytes of base64.
    #[error("the encryption key must be 32 bytes in standard base64")]
    BadKey,
    /// Wrong key, or tampered / truncated data.
    #[error("decryption failed (wrong key or corrupted data)")]
    Decrypt,
}

/// An AES-256-GCM key.
pub struct Cipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    /// A cipher from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A cipher from 32 bytes in standard base64.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    /// Encrypts `plain`; `context` is bound as associated data (e.g. the row's purpose).
    pub fn encrypt(&self, plain: &[u8], context: &str) -> String {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let mut nonce_arr = [0u8; NONCE_LEN];
        nonce_arr.copy_from_slice(&nonce_bytes);
        let mut buf = plain.to_vec();
        // Sealing only fails when the input exceeds GCM's limit (~64 GiB).
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_arr),
            Aad::from(context.as_bytes()),
            &mut buf,
        );
        if sealed.is_err() {
            buf.clear();
        }
        let mut out = nonce_arr.to_vec();
        out.extend_from_slice(&buf);
        STANDARD.encode(out)
    }

    /// Decrypts what `encrypt` produced with the same `context`.
    pub fn decrypt(&self, text: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let raw = STANDARD.decode(text).map_err(|_| CryptoError::Decrypt)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

/// A new random key in standard base64 (what `openssl rand -base64 32` prints).
pub fn generate_key_base64() -> String {
    STANDARD.encode(random_bytes(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key_or_context_fail() {
        let key = generate_key_base64();
        let c = Cipher::from_base64(&key).unwrap_or_else(|_| unreachable!());
        let sealed = c.encrypt(b"secret", "ctx");
        assert_eq!(c.decrypt(&sealed, "ctx").ok(), Some(b"secret".to_vec()));
        assert!(c.decrypt(&sealed, "other").is_err());
        let other = Cipher::from_base64(&generate_key_base64()).unwrap_or_else(|_| unreachable!());
        assert!(other.decrypt(&sealed, "ctx").is_err());
        assert!(c.decrypt("garbage", "ctx").is_err());
        assert!(Cipher::from_base64("c2hvcnQ=").is_err());
    }
}
