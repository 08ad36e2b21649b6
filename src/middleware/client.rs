//! The client's address and user agent. `X-Forwarded-For` is believed only when
//! the peer is a configured trusted proxy, and then only up to the first
//! untrusted hop from the right.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::errors::AppError;
use crate::services::ClientMeta;
use crate::state::AppState;

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 512;

/// Extracted client metadata.
#[derive(Debug, Clone)]
pub struct Client(pub ClientMeta);

/// The client IP for `peer` given the `X-Forwarded-For` chain and trusted proxies.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else {
        return Some(peer);
    };
    let mut candidate = peer;
    for hop in chain.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        candidate = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(candidate)
}

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let trusted: &[IpNet] = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.as_slice())
            .unwrap_or(&[]);
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = client_ip(req.peer_addr().map(|a| a.ip()), forwarded, trusted);
        let user_agent = req.headers().get(header::USER_AGENT).map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes());
            text.chars().take(MAX_USER_AGENT).collect::<String>()
        });
        ready(Ok(Client(ClientMeta {
            ip: ip.map(|ip| ip.to_canonical().to_string()),
            user_agent,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let chain = Some("203.0.113.9, 10.0.0.7");
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), chain, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), chain, &trusted),
            Some(ip("203.0.113.9"))
        );
        // A client cannot spoof past the first untrusted hop.
        let spoof = Some("1.1.1.1, 203.0.113.9");
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), spoof, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("garbage"), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), None, &trusted),
            Some(ip("10.0.0.1"))
        );
    }
}
