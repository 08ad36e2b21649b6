//! The client's address and user agent. `X-Forwarded-For` is believed only when
//! the TCP peer is a configured trusted proxy, and then only up to the first
//! untrusted hop from the right.
//!
//! Rules (`client_ip`): every `X-Forwarded-For` line counts, in order, as one
//! comma-separated list; the list is walked from the right, skipping trusted
//! proxies, and the first address that is not a trusted proxy is the client.
//! If every hop is trusted, the client is the leftmost hop. An IPv4-mapped IPv6
//! address (`::ffff:192.0.2.1`), for the peer or for a hop, is that IPv4
//! address; a hop with a port (`192.0.2.1:5000`, `[2001:db8::1]:443`) is read
//! without it. A hop that is not an address stops the walk (see `client_ip`).

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

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

/// Whether `ip` (canonical) is inside one of the `trusted` networks. An IPv4
/// address also matches a network written in IPv4-mapped IPv6 form.
fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let mapped = match ip {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    trusted
        .iter()
        .any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m)))
}

/// One `X-Forwarded-For` hop as an address: `a.b.c.d`, `a.b.c.d:port`, an IPv6
/// address, `[v6]` or `[v6]:port`, surrounding whitespace ignored. An
/// IPv4-mapped IPv6 address comes back as IPv4. `None` when it is not an address.
pub fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            let inner = hop.strip_prefix('[')?.strip_suffix(']')?;
            inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

/// The client IP for the TCP `peer`, given every `X-Forwarded-For` line of the
/// request in order (`forwarded_for`) and the trusted proxies; always
/// canonical (IPv4-mapped IPv6 is returned as IPv4).
///
/// A hop that is not an address (`unknown`, garbage) stops the walk and the
/// client is the last address examined, i.e. the nearest trusted proxy (or the
/// peer itself when the garbage is the rightmost hop): nothing at or left of a
/// hop we cannot read is believed, so a client cannot hide behind garbage.
/// Empty list elements (`a,,b`, a trailing comma) are ignored, as HTTP list
/// syntax requires.
pub fn client_ip<I, S>(peer: Option<IpAddr>, forwarded_for: I, trusted: &[IpNet]) -> Option<IpAddr>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let peer = peer?.to_canonical();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let lines: Vec<S> = forwarded_for.into_iter().collect();
    let hops = lines
        .iter()
        .rev()
        .flat_map(|line| line.as_ref().rsplit(','));
    let mut client = peer;
    for hop in hops {
        if hop.trim().is_empty() {
            continue;
        }
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    Some(client)
}

/// The client IP of `req` under the `trusted` proxies: [`client_ip`] over the
/// TCP peer and every `X-Forwarded-For` line of the request.
pub fn request_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let lines = req
        .headers()
        .get_all(header::X_FORWARDED_FOR)
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    client_ip(req.peer_addr().map(|a| a.ip()), lines, trusted)
}

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let trusted: &[IpNet] = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.as_slice())
            .unwrap_or(&[]);
        let ip = request_ip(req, trusted);
        let user_agent = req.headers().get(header::USER_AGENT).map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes());
            text.chars().take(MAX_USER_AGENT).collect::<String>()
        });
        ready(Ok(Client(ClientMeta {
            ip: ip.map(|ip| ip.to_string()),
            user_agent,
        })))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    /// The client behind `peer` with these `X-Forwarded-For` lines.
    fn via<S: AsRef<str>>(
        peer: &str,
        lines: impl IntoIterator<Item = S>,
        trusted: &[IpNet],
    ) -> Option<IpAddr> {
        client_ip(Some(ip(peer)), lines, trusted)
    }

    fn one(line: &str) -> [&str; 1] {
        [line]
    }

    const NONE: [&str; 0] = [];

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8"]);
        let chain = one("203.0.113.9, 10.0.0.7");
        assert_eq!(
            via("198.51.100.1", chain, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(via("10.0.0.1", chain, &trusted), Some(ip("203.0.113.9")));
        // A client cannot spoof past the first untrusted hop.
        let spoof = one("1.1.1.1, 203.0.113.9");
        assert_eq!(via("10.0.0.1", spoof, &trusted), Some(ip("203.0.113.9")));
        assert_eq!(via("10.0.0.1", NONE, &trusted), Some(ip("10.0.0.1")));
        assert_eq!(client_ip(None, chain, &trusted), None);
    }

    #[test]
    fn every_line_counts_in_order_as_one_list() {
        let trusted = nets(&["10.0.0.0/8"]);
        // The client's forged line first, the proxy's own line second.
        let lines = ["198.51.100.66, 10.9.9.9", "203.0.113.9"];
        assert_eq!(via("10.0.0.1", lines, &trusted), Some(ip("203.0.113.9")));
        // Trusted hops on the right of the last line continue into the line before.
        let lines = ["203.0.113.9, 10.0.0.8", "10.0.0.7"];
        assert_eq!(via("10.0.0.1", lines, &trusted), Some(ip("203.0.113.9")));
        let lines = vec![String::from("203.0.113.1"), String::from(" 10.0.0.3 ,")];
        assert_eq!(via("10.0.0.1", lines, &trusted), Some(ip("203.0.113.1")));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_all_trusted_gives_the_leftmost() {
        let trusted = nets(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let chain = one("192.0.2.1, 192.0.2.2, 10.0.0.9, 2001:db8:ffff::1");
        assert_eq!(via("10.0.0.1", chain, &trusted), Some(ip("192.0.2.2")));
        let all_trusted = one("10.1.1.1, 10.2.2.2, 2001:db8:ffff::2");
        assert_eq!(via("10.0.0.1", all_trusted, &trusted), Some(ip("10.1.1.1")));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4_for_the_peer_and_every_hop() {
        let trusted = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        // The peer of an IPv6 (dual-stack) listener.
        assert_eq!(
            via("::ffff:127.0.0.1", one("192.0.2.7"), &trusted),
            Some(ip("192.0.2.7"))
        );
        assert_eq!(
            via("::ffff:198.51.100.1", NONE, &trusted),
            Some(ip("198.51.100.1"))
        );
        // A mapped trusted hop is skipped; a mapped client comes back as IPv4.
        assert_eq!(
            via(
                "127.0.0.1",
                one("::ffff:192.0.2.7, ::ffff:10.0.0.5"),
                &trusted
            ),
            Some(ip("192.0.2.7"))
        );
        // A network written in mapped form matches the IPv4 peer too.
        let mapped = nets(&["::ffff:127.0.0.0/104"]);
        assert_eq!(
            via("127.0.0.1", one("192.0.2.8"), &mapped),
            Some(ip("192.0.2.8"))
        );
    }

    #[test]
    fn hops_with_ports_are_read_without_them() {
        assert_eq!(parse_hop("192.0.2.1:5000"), Some(ip("192.0.2.1")));
        assert_eq!(parse_hop("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop(" [2001:db8::2] "), Some(ip("2001:db8::2")));
        assert_eq!(parse_hop("[::ffff:192.0.2.3]:80"), Some(ip("192.0.2.3")));
        assert_eq!(parse_hop("2001:db8::4"), Some(ip("2001:db8::4")));
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            via(
                "10.0.0.1",
                one("[2001:db8::1]:443, 10.0.0.2:8080"),
                &trusted
            ),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_nearest_trusted_proxy() {
        for bad in [
            "unknown",
            "garbage",
            "192.0.2.1:99999",
            "[192.0.2.1]",
            "1.2.3",
        ] {
            assert_eq!(parse_hop(bad), None, "{bad}");
        }
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            via("10.0.0.1", one("garbage"), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            via("10.0.0.1", one("203.0.113.9, unknown, 10.0.0.7"), &trusted),
            Some(ip("10.0.0.7"))
        );
        // Garbage left of the first untrusted hop does not matter.
        assert_eq!(
            via("10.0.0.1", ["\u{fffd}x, y", "203.0.113.9"], &trusted),
            Some(ip("203.0.113.9"))
        );
        // Empty elements are not hops.
        assert_eq!(
            via("10.0.0.1", one("203.0.113.9,, ,"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_request_reading_takes_every_header_line() {
        let trusted = nets(&["127.0.0.0/8"]);
        let req = TestRequest::default()
            .peer_addr("[::ffff:127.0.0.1]:4000".parse().unwrap())
            .append_header(("x-forwarded-for", "198.51.100.66"))
            .append_header(("x-forwarded-for", "203.0.113.9:5000"))
            .to_http_request();
        assert_eq!(request_ip(&req, &trusted), Some(ip("203.0.113.9")));
        assert_eq!(request_ip(&req, &[]), Some(ip("127.0.0.1")));
    }
}
