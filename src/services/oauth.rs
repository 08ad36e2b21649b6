//! RFC 7662 introspection and RFC 7009 revocation for resource servers and
//! clients. Introspection honours revocation exactly as double validation does.

use serde_json::json;

use super::audit::{self, event};
use super::token::{check_access, TokenService};
use super::ClientMeta;
use crate::db::{write_transaction, Db};
use crate::dto::oauth::IntrospectionResponse;
use crate::errors::{AppError, AppResult};
use crate::models::token::{kind, reason};
use crate::models::TokenContext;
use crate::repositories::{session as session_repo, token as token_repo};
use crate::security::hashing::token_hash;
use crate::util;

/// Introspection and revocation rules.
#[derive(Clone)]
pub struct OAuthService {
    db: Db,
    tokens: TokenService,
}

impl OAuthService {
    /// Builds the service.
    pub fn new(db: Db, tokens: TokenService) -> Self {
        Self { db, tokens }
    }

    /// Describes `raw`: active with its claims, or just inactive. Only a
    /// database failure is an error (503): an outage never reads as "inactive".
    #[tracing::instrument(skip_all)]
    pub async fn introspect(&self, raw: String) -> AppResult<IntrospectionResponse> {
        let now = util::now();
        let now_secs = now.and_utc().timestamp();
        let signed = self.tokens.verify_signature(&raw, now_secs).await.ok();
        let hash = token_hash(&raw);
        let ctx = self
            .db
            .run(move |c| Ok(token_repo::find_context_by_hash(c, &hash)?))
            .await?;
        let Some(ctx) = ctx else {
            return Ok(IntrospectionResponse::default());
        };
        let ring = self.tokens.keys().current();
        let active = |token_type: &str, ctx: &TokenContext| IntrospectionResponse {
            active: true,
            sub: Some(ctx.user.id.to_string()),
            exp: Some(ctx.token.expires_at.and_utc().timestamp()),
            iat: Some(ctx.token.created_at.and_utc().timestamp()),
            jti: Some(ctx.token.jti.clone()),
            iss: Some(ring.issuer().to_string()),
            aud: Some(ring.audience().to_string()),
            token_type: Some(token_type.to_string()),
            sid: ctx.token.session_id.map(|s| s.to_string()),
            username: Some(ctx.user.email.clone()),
        };
        let usable = match ctx.token.token_type.as_str() {
            kind::ACCESS => match &signed {
                Some(claims) => check_access(&ctx, &claims.jti, now).is_ok(),
                None => false,
            },
            kind::REFRESH => refresh_usable(&ctx, now),
            _ => false,
        };
        if !usable {
            return Ok(IntrospectionResponse::default());
        }
        let mut answer = match ctx.token.token_type.as_str() {
            kind::ACCESS => active("Bearer", &ctx),
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
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let Some(ctx) = token_repo::find_context_by_hash(c, &hash)? else {
                        return Ok(());
                    };
                    let revoked = match (ctx.token.token_type.as_str(), ctx.token.session_id) {
                        (kind::REFRESH, Some(sid)) => {
                            session_repo::revoke(c, sid, reason::RFC7009, now)?;
                            token_repo::revoke_by_session(c, sid, reason::RFC7009, now)?
                        }
                        _ => token_repo::revoke_if_active(c, ctx.token.id, reason::RFC7009, now)?,
                    };
                    crate::metrics::tokens_revoked(reason::RFC7009, revoked);
                    if revoked > 0 {
                        let details = json!({
                            "jti": ctx.token.jti,
                            "token_type": ctx.token.token_type,
                            "reason": reason::RFC7009,
                            "revoked_tokens": revoked,
                        });
                        audit::record(
                            c,
                            event::TOKEN_REVOKED,
                            Some(&ctx.user),
                            &client,
                            details,
                            now,
                        )?;
                    }
                    Ok(())
                })
            })
            .await?;
        self.tokens.revocations_happened();
        Ok(())
    }
}

fn refresh_usable(ctx: &TokenContext, now: chrono::NaiveDateTime) -> bool {
    let t = &ctx.token;
    let session_live = ctx
        .session
        .as_ref()
        .is_some_and(|s| !s.revoked && s.expires_at > now);
    !t.revoked && !t.expired && t.expires_at > now && session_live && ctx.user.is_active
}

/// Only `admin` and `service` callers may introspect.
pub fn may_introspect(principal: &super::token::Principal) -> AppResult<()> {
    if principal.has_role("admin") || principal.has_role("service") {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
