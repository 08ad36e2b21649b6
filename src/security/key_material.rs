//! Signing key material: generating keys of each algorithm, their public
//! JWKs, and the algorithm names the database and settings use.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::Algorithm;
use jsonwebtoken::{DecodingKey, EncodingKey};

/// Key material as stored: the raw secret for HS256, PKCS#8 DER otherwise.
pub struct KeyMaterial {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// HS256 secret bytes, or the PKCS#8 DER private key.
    pub secret: Vec<u8>,
}

impl KeyMaterial {
    /// A new random key for `algorithm` (RS256: RSA 2048, ES256: P-256, EdDSA: Ed25519).
    pub fn generate(algorithm: Algorithm) -> Result<Self, String> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
        use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let fail = |what: &str| format!("cannot generate a {what} key");
        let secret = match algorithm {
            Algorithm::HS256 => super::hashing::random_bytes(64),
            Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| fail("RSA"))?
                .as_ref()
                .to_vec(),
            Algorithm::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|_| fail("P-256"))?
                .as_ref()
                .to_vec(),
            Algorithm::EdDSA => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|_| fail("Ed25519"))?
                .as_ref()
                .to_vec(),
            other => return Err(format!("algorithm {other:?} is not supported")),
        };
        let tag = algorithm_name(algorithm).to_ascii_lowercase();
        let kid = format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        Ok(Self {
            kid,
            algorithm,
            secret,
        })
    }

    pub(super) fn encoding_key(&self) -> Result<EncodingKey, String> {
        let bad = |e: jsonwebtoken::errors::Error| format!("key {} is unusable: {e}", self.kid);
        match self.algorithm {
            Algorithm::HS256 => Ok(EncodingKey::from_secret(&self.secret)),
            // jsonwebtoken wants PKCS#1 for RSA; its PEM reader unwraps PKCS#8.
            Algorithm::RS256 => {
                EncodingKey::from_rsa_pem(pkcs8_pem(&self.secret).as_bytes()).map_err(bad)
            }
            Algorithm::ES256 => Ok(EncodingKey::from_ec_der(&self.secret)),
            Algorithm::EdDSA => Ok(EncodingKey::from_ed_der(&self.secret)),
            other => Err(format!("algorithm {other:?} is not supported")),
        }
    }

    /// The public JWK (None for HS256, whose key is secret).
    pub fn public_jwk(&self) -> Result<Option<Jwk>, String> {
        if self.algorithm == Algorithm::HS256 {
            return Ok(None);
        }
        let mut jwk = Jwk::from_encoding_key(&self.encoding_key()?, self.algorithm)
            .map_err(|e| format!("key {} has no public form: {e}", self.kid))?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Some(jwk))
    }

    pub(super) fn verifying_key(&self) -> Result<(DecodingKey, Option<Jwk>), String> {
        match self.public_jwk()? {
            None => Ok((DecodingKey::from_secret(&self.secret), None)),
            Some(jwk) => {
                let key =
                    DecodingKey::from_jwk(&jwk).map_err(|e| format!("key {}: {e}", self.kid))?;
                Ok((key, Some(jwk)))
            }
        }
    }
}

/// The JWS name of an algorithm.
pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

/// Parses a JWS algorithm name this server signs with.
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "HS256" => Some(Algorithm::HS256),
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// A PKCS#8 DER key as PEM text (what jsonwebtoken reads).
pub(super) fn pkcs8_pem(der: &[u8]) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}
