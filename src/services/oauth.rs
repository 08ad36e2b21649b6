//! RFC 7662 introspection and RFC 7009 revocation for resource servers and
//! clients. Introspection honours revocation exactly as double validation does.

use serde_json::json;

use super::audit::{self, event};
use super::revocation::{self, Revocations};
use super::validation::{check_access, TokenValidator};
use super::ClientMeta;
use crate::db::Db;
use crate::dto::oauth::{IntrospectionResponse, ServerMetadata};
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, Role, TokenContext, TokenKind};
use crate::principal::Principal;
use crate::repositories::token as token_repo;
use crate::security::hashing::token_hash;
use crate::util;

/// Introspection and revocation rules.
#[derive(Clone)]
pub struct OAuthService {
    db: Db,
    validator: TokenValidator,
    revocations: Revocations,
    /// The external base URL, without a trailing slash.
    public_url: std::sync::Arc<str>,
}

impl OAuthService {
    /// Builds the service; metadata URLs start with `public_url`.
    pub fn new(
        db: Db,
        validator: TokenValidator,
        revocations: Revocations,
        public_url: &str,
    ) -> Self {
        Self {
            db,
            validator,
            revocations,
            public_url: public_url.into(),
        }
    }

    /// RFC 8414 metadata: where resource servers find keys, introspection and
    /// revocation, as absolute URLs.
    pub fn metadata(&self) -> ServerMetadata {
        let at = |path: &str| format!("{}{path}", self.public_url);
        ServerMetadata {
            issuer: self.public_url.to_string(),
            jwks_uri: at("/.well-known/jwks.json"),
            introspection_endpoint: at("/oauth/introspect"),
            revocation_endpoint: at("/oauth/revoke"),
            token_endpoint_auth_methods_supported: vec!["none"],
            introspection_endpoint_auth_methods_supported: vec!["bearer"],
            revocation_endpoint_auth_methods_supported: vec!["none"],
            response_types_supported: Vec::new(),
        }
    }

    /// Describes `raw`: active with its claims, or just inactive. Only a
    /// database failure is an error (503): an outage never reads as "inactive".
    #[tracing::instrument(skip_all)]
    pub async fn introspect(&self, raw: String) -> AppResult<IntrospectionResponse> {
        let now = util::now();
        let now_secs = now.and_utc().timestamp();
        let signed = self.validator.verify_signature(&raw, now_secs).await.ok();
        let hash = token_hash(&raw);
        let ctx = self
            .db
            .run(move |c| Ok(token_repo::find_context_by_hash(c, &hash)?))
            .await?;
        let Some(ctx) = ctx else {
            return Ok(IntrospectionResponse::default());
        };
        let ring = self.validator.keys().current();
        let active = |token_type: &str, ctx: &TokenContext| IntrospectionResponse {
            active: true,
            sub: Some(ctx.user.id.to_string()),
            exp: Some(ctx.token.issued.expires_at.and_utc().timestamp()),
            iat: Some(ctx.token.issued.created_at.and_utc().timestamp()),
            jti: Some(ctx.token.issued.jti.clone()),
            iss: Some(ring.issuer().to_string()),
            aud: Some(ring.audience().to_string()),
            token_type: Some(token_type.to_string()),
            sid: ctx.token.issued.session_id.map(|s| s.to_string()),
            username: Some(ctx.user.email.clone()),
        };
        let usable = match ctx.token.issued.token_type {
            TokenKind::Access => match &signed {
                Some(claims) => check_access(&ctx, &claims.jti, now).is_ok(),
                None => false,
            },
            TokenKind::Refresh => refresh_usable(&ctx, now),
            TokenKind::Challenge | TokenKind::Ws | TokenKind::Device => false,
        };
        // A session waiting for a forced password change serves nobody else.
        let usable = usable && !ctx.user.must_change_password;
        if !usable {
            return Ok(IntrospectionResponse::default());
        }
        let mut answer = match ctx.token.issued.token_type {
            TokenKind::Access => active("Bearer", &ctx),
            _ => active("refresh_token", &ctx),
        };
        if let Some(claims) = signed {
            answer.iat = Some(claims.iat);
            answer.exp = Some(claims.exp);
        }
        Ok(answer)
    }

    /// Revokes `raw` if it is a token of ours: an access token alone, a refresh
    /// token with its whole session. Unknown tokens are not an error (RFC 7009).
    #[tracing::instrument(skip_all)]
    pub async fn revoke(&self, raw: String, client: ClientMeta) -> AppResult<()> {
        let hash = token_hash(&raw);
        self.revocations
            .commit(&self.db, move |c, now| {
                let Some(ctx) = token_repo::find_context_by_hash(c, &hash)? else {
                    return Ok(None);
                };
                let (t, why) = (&ctx.token, RevokeReason::Rfc7009);
                let ended = match (t.issued.token_type, t.issued.session_id) {
                    (TokenKind::Refresh, Some(sid)) => {
                        revocation::end_session(c, t.issued.user_id, sid, why, now)?
                    }
                    _ => revocation::end_token(c, t.issued.user_id, t.id, why, now)?,
                };
                if ended.tokens > 0 {
                    let details = json!({
                        "jti": t.issued.jti,
                        "token_type": t.issued.token_type.as_str(),
                        "reason": ended.reason.as_str(),
                        "revoked_tokens": ended.tokens,
                    });
                    let owner = Some(&ctx.user);
                    audit::record(c, event::TOKEN_REVOKED, owner, &client, details, now)?;
                }
                Ok(Some(ended))
            })
            .await?;
        Ok(())
    }
}

fn refresh_usable(ctx: &TokenContext, now: chrono::NaiveDateTime) -> bool {
    let t = &ctx.token;
    let session_live = ctx
        .session
        .as_ref()
        .is_some_and(|s| !s.revoked && s.login.expires_at > now);
    !t.revoked && !t.expired && t.issued.expires_at > now && session_live && ctx.user.is_active
}

/// Only `admin` and `service` callers may introspect.
pub fn may_introspect(principal: &Principal) -> AppResult<()> {
    if principal.has_role(&Role::Admin) || principal.has_role(&Role::Service) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
