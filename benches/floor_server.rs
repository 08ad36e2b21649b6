//! The reference floor for `scripts/bench/run.sh`: a minimal actix-web server
//! whose `GET /auth/validate` only verifies the JWT (same keys, from tokenward's
//! JWKS; same checks: alg, kid, iss, aud, exp, nbf, no leeway) and touches no
//! database. Every tokenward figure is given as a ratio to this one.
//!
//! Run: `cargo bench --bench floor_server -- --bind 127.0.0.1:18081 --jwks http://127.0.0.1:18080/.well-known/jwks.json`

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::Value;

struct Keys {
    by_kid: HashMap<String, (jsonwebtoken::Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
}

async fn validate(req: HttpRequest, keys: web::Data<Arc<Keys>>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return HttpResponse::Unauthorized().finish();
    };
    let Ok(header) = decode_header(token) else {
        return HttpResponse::Unauthorized().finish();
    };
    let Some((alg, key)) = header.kid.as_deref().and_then(|k| keys.by_kid.get(k)) else {
        return HttpResponse::Unauthorized().finish();
    };
    if header.alg != *alg {
        return HttpResponse::Unauthorized().finish();
    }
    let mut v = Validation::new(*alg);
    v.leeway = 0;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]);
    v.set_issuer(&[&keys.issuer]);
    v.set_audience(&[&keys.audience]);
    match decode::<Value>(token, key, &v) {
        Ok(data) => HttpResponse::Ok().json(serde_json::json!({
            "valid": true,
            "user_id": data.claims["sub"],
            "session_id": data.claims["sid"],
            "token_id": data.claims["jti"],
        })),
        Err(_) => HttpResponse::Unauthorized().finish(),
    }
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // `cargo bench` passes `--bench`; only run as a server when asked to.
    if !std::env::args().any(|a| a == "--jwks") {
        eprintln!("floor_server: pass --jwks URL [--bind ADDR] to run");
        return Ok(());
    }
    let bind = arg("--bind", "127.0.0.1:18081");
    let jwks_url = arg("--jwks", "");
    let set: JwkSet = reqwest::get(&jwks_url)
        .await
        .and_then(|r| r.error_for_status())
        .map_err(std::io::Error::other)?
        .json()
        .await
        .map_err(std::io::Error::other)?;
    let mut by_kid = HashMap::new();
    for jwk in &set.keys {
        let (Some(kid), Some(alg)) = (jwk.common.key_id.clone(), jwk.common.key_algorithm) else {
            continue;
        };
        let alg: jsonwebtoken::Algorithm = match alg.to_string().parse() {
            Ok(a) => a,
            Err(_) => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            by_kid.insert(kid, (alg, key));
        }
    }
    let keys = Arc::new(Keys {
        by_kid,
        issuer: arg("--issuer", "tokenward"),
        audience: arg("--audience", "tokenward"),
    });
    eprintln!(
        "floor_server: {} keys, listening on {bind}",
        keys.by_kid.len()
    );
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(keys.clone()))
            .route("/auth/validate", web::get().to(validate))
    })
    .bind(bind)?
    .run()
    .await
}
