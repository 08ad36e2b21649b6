//! JWT signing and verification behind a key ring, so algorithms and key
//! rotation can grow without touching callers. Verification is strict: the
//! header must name a known `kid` whose algorithm matches, no embedded keys,
//! no leeway, `nbf` checked, and `exp` refused from its own second on.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::Validation;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

pub use super::key_material::{algorithm_name, parse_algorithm, KeyMaterial};

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id, decimal.
    pub sub: String,
    /// User email at issue time.
    pub email: String,
    /// Roles at issue time (informative only).
    pub roles: Vec<String>,
    /// Session id, decimal.
    pub sid: String,
    /// Token id (UUID).
    pub jti: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Always `access`.
    pub token_type: String,
}

/// Why a presented JWT was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Bad signature, malformed, wrong alg/kid/iss/aud/typ/nbf.
    Invalid(&'static str),
    /// At or past `exp`.
    Expired,
}

/// A key that signs.
pub struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
}

struct VerifyingKey {
    algorithm: Algorithm,
    decoding: DecodingKey,
}

/// The current signer plus every key still accepted for verification.
pub struct KeyRing {
    signer: SigningKey,
    verifiers: HashMap<String, VerifyingKey>,
    jwks: JwkSet,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("signer_kid", &self.signer.kid)
            .field("verifier_kids", &self.verifiers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// A ring that signs with `current` and also verifies with `older`.
    pub fn new(
        current: &KeyMaterial,
        older: &[KeyMaterial],
        issuer: String,
        audience: String,
    ) -> Result<Self, String> {
        let mut verifiers = HashMap::new();
        let mut keys = Vec::new();
        for m in older.iter().chain(std::iter::once(current)) {
            let (decoding, jwk) = m.verifying_key()?;
            keys.extend(jwk);
            verifiers.insert(
                m.kid.clone(),
                VerifyingKey {
                    algorithm: m.algorithm,
                    decoding,
                },
            );
        }
        Ok(Self {
            signer: SigningKey {
                kid: current.kid.clone(),
                algorithm: current.algorithm,
                encoding: current.encoding_key()?,
            },
            verifiers,
            jwks: JwkSet { keys },
            issuer,
            audience,
        })
    }

    /// The public keys (RFC 7517 set) of every asymmetric key in the ring.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The kid new tokens are signed with.
    pub fn current_kid(&self) -> &str {
        &self.signer.kid
    }

    /// Issuer every token carries.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Audience every token carries.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Signs `claims` with the current key, `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.signer.algorithm);
        header.typ = Some("JWT".into());
        header.kid = Some(self.signer.kid.clone());
        encode(&header, claims, &self.signer.encoding)
    }

    /// Verifies an access token against the ring at `now` (Unix seconds).
    pub fn verify_access(&self, token: &str, now: i64) -> Result<AccessClaims, Rejection> {
        let header = decode_header(token).map_err(|_| Rejection::Invalid("malformed header"))?;
        if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() {
            return Err(Rejection::Invalid("embedded key reference"));
        }
        let kid = header.kid.as_deref().ok_or(Rejection::Invalid("no kid"))?;
        let key = self
            .verifiers
            .get(kid)
            .ok_or(Rejection::Invalid("unknown kid"))?;
        if header.alg != key.algorithm {
            return Err(Rejection::Invalid("algorithm not allowed"));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        let data =
            decode::<AccessClaims>(token, &key.decoding, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => Rejection::Expired,
                    ErrorKind::InvalidSignature => Rejection::Invalid("bad signature"),
                    ErrorKind::InvalidIssuer => Rejection::Invalid("wrong issuer"),
                    ErrorKind::InvalidAudience => Rejection::Invalid("wrong audience"),
                    ErrorKind::ImmatureSignature => Rejection::Invalid("not yet valid"),
                    _ => Rejection::Invalid("malformed"),
                }
            })?;
        let claims = data.claims;
        if claims.token_type != "access" {
            return Err(Rejection::Invalid("not an access token"));
        }
        // The library accepts now == exp; the contract refuses from that second on.
        if now >= claims.exp {
            return Err(Rejection::Expired);
        }
        if claims.nbf > now {
            return Err(Rejection::Invalid("not yet valid"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn ring(secret: &[u8], kid: &str) -> KeyRing {
        KeyRing::new(
            &KeyMaterial {
                kid: kid.into(),
                algorithm: Algorithm::HS256,
                secret: secret.to_vec(),
            },
            &[],
            "iss".into(),
            "aud".into(),
        )
        .unwrap()
    }

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: "1".into(),
            email: "a@b.c".into(),
            roles: vec!["user".into()],
            sid: "2".into(),
            jti: "j".into(),
            iat: now,
            nbf: now,
            exp: now + 60,
            token_type: "access".into(),
        }
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn every_asymmetric_algorithm_signs_verifies_and_publishes_a_jwk() {
        let now = chrono::Utc::now().timestamp();
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            let m = KeyMaterial::generate(alg).unwrap();
            let r = KeyRing::new(&m, &[], "iss".into(), "aud".into()).unwrap();
            let t = r.sign(&claims(now)).unwrap();
            assert_eq!(r.verify_access(&t, now).unwrap().sub, "1", "{alg:?}");
            let jwks = serde_json::to_value(r.jwks()).unwrap();
            assert_eq!(jwks["keys"][0]["kid"], m.kid.as_str());
            assert!(
                jwks["keys"][0].get("d").is_none(),
                "no private part in {jwks}"
            );
            // A different key of the same kind does not verify it.
            let other = KeyMaterial::generate(alg).unwrap();
            let other = KeyMaterial {
                kid: m.kid.clone(),
                ..other
            };
            let r2 = KeyRing::new(&other, &[], "iss".into(), "aud".into()).unwrap();
            assert!(r2.verify_access(&t, now).is_err(), "{alg:?}");
        }
    }

    #[test]
    fn an_hmac_token_is_refused_by_an_rsa_key_with_that_kid() {
        let now = chrono::Utc::now().timestamp();
        let rsa = KeyMaterial::generate(Algorithm::RS256).unwrap();
        let r = KeyRing::new(&rsa, &[], "iss".into(), "aud".into()).unwrap();
        // HS/RS confusion: sign HS256 with the public JWK's bytes as the secret.
        let public = serde_json::to_vec(r.jwks()).unwrap();
        let forged = ring(&public, &rsa.kid).sign(&claims(now)).unwrap();
        assert_eq!(
            r.verify_access(&forged, now),
            Err(Rejection::Invalid("algorithm not allowed"))
        );
    }

    #[test]
    fn signed_tokens_verify_until_their_exp_second() {
        let r = ring(SECRET, "k1");
        let now = chrono::Utc::now().timestamp();
        let t = r.sign(&claims(now)).unwrap();
        assert_eq!(r.verify_access(&t, now).unwrap().sub, "1");
        assert_eq!(r.verify_access(&t, now + 59).map(|c| c.exp), Ok(now + 60));
        assert_eq!(r.verify_access(&t, now + 60), Err(Rejection::Expired));
    }

    #[test]
    fn forged_tokens_are_invalid() {
        let r = ring(SECRET, "k1");
        let now = chrono::Utc::now().timestamp();
        let invalid = |t: &str| matches!(r.verify_access(t, now), Err(Rejection::Invalid(_)));
        let other = ring(b"ffffffffffffffffffffffffffffffff", "k1");
        let forged = other.sign(&claims(now)).unwrap();
        assert_eq!(
            r.verify_access(&forged, now),
            Err(Rejection::Invalid("bad signature"))
        );
        let unknown_kid = ring(SECRET, "k2").sign(&claims(now)).unwrap();
        assert!(invalid(&unknown_kid));
        let mut wrong_aud = claims(now);
        wrong_aud.aud = "other".into();
        let t = r.sign(&wrong_aud).unwrap();
        assert!(invalid(&t));
        let mut refresh = claims(now);
        refresh.token_type = "refresh".into();
        let t = r.sign(&refresh).unwrap();
        assert!(invalid(&t));
        // alg none: header parses to nothing we accept.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now)).unwrap());
        let none = format!("{header}.{body}.");
        assert!(invalid(&none));
        assert!(invalid("garbage"));
        let mut future = claims(now);
        future.nbf = now + 30;
        let t = r.sign(&future).unwrap();
        assert!(invalid(&t));
    }
}
