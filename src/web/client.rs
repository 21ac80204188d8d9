//! Who is on the other end of a request: the client address that rate limits and the audit
//! log key on.
//!
//! The TCP peer, unless the peer is one of `server.trusted_proxies`: only then do we read
//! the address the proxy reports. A header anyone can set must not pick the rate-limit
//! bucket, and behind a proxy every peer is the proxy, so without this all clients would
//! share one bucket (and one lockout).

use super::AppState;
use crate::model::IpNet;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, web};
use std::net::{IpAddr, SocketAddr};

/// The client's address as text ("unknown" when the connection has no peer address).
pub fn client_ip(req: &HttpRequest) -> String {
    client_addr(req)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client's address: the TCP peer, or what a trusted proxy reports.
pub fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(forwarded_client(peer, req.headers(), trusted_proxies(req)))
}

/// Is the TCP peer of `req` one of `server.trusted_proxies`?
pub fn peer_is_trusted_proxy(req: &HttpRequest) -> bool {
    req.peer_addr()
        .is_some_and(|p| is_trusted(trusted_proxies(req), p.ip()))
}

fn trusted_proxies(req: &HttpRequest) -> &[IpNet] {
    req.app_data::<web::Data<AppState>>()
        .map(|s| s.config.trusted_proxies.as_slice())
        .unwrap_or(&[])
}

fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    trusted.iter().any(|net| net.contains(ip))
}

/// The client behind `peer`. Each proxy appends the address it got the request from, so
/// the list is read from the right: hops that are trusted proxies are skipped, and the
/// first one that is not is the client. Everything left of it was written by the client
/// itself and is ignored. A hop we cannot read ends the walk at the last address we could.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(trusted, peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_hops(headers).into_iter().rev() {
        let Some(ip) = hop else { break };
        client = ip;
        if !is_trusted(trusted, ip) {
            break;
        }
    }
    client
}

/// The hops of `X-Forwarded-For` (all instances, in order), or else of `Forwarded: for=`.
/// `X-Forwarded-For` wins when both are present because it is what nginx, Caddy, Apache and
/// Traefik set: a proxy that only appends to `X-Forwarded-For` passes a client's own
/// `Forwarded` header through untouched, so reading that one first would let the client
/// choose its address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    if headers.contains_key("x-forwarded-for") {
        for value in headers.get_all("x-forwarded-for") {
            match value.to_str() {
                Ok(v) => hops.extend(v.split(',').map(parse_hop)),
                Err(_) => hops.push(None),
            }
        }
        return hops;
    }
    for value in headers.get_all("forwarded") {
        let Ok(v) = value.to_str() else {
            hops.push(None);
            continue;
        };
        // `for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`: one element per hop.
        for element in v.split(',') {
            let addr = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then_some(value)
            });
            hops.push(addr.and_then(parse_hop));
        }
    }
    hops
}

/// `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, optionally quoted.
/// `unknown` and obfuscated identifiers (`_hidden`) are no address.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| IpNet::parse(s).expect("net")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn client(peer: &str, headers: &[(&str, &str)], trusted: &[&str]) -> String {
        let mut req = TestRequest::default();
        for h in headers {
            req = req.append_header(*h);
        }
        let req = req.to_http_request();
        forwarded_client(ip(peer), req.headers(), &nets(trusted)).to_string()
    }

    #[test]
    fn headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(client("192.0.2.1", &xff, &[]), "192.0.2.1");
        assert_eq!(client("192.0.2.1", &xff, &["127.0.0.1"]), "192.0.2.1");
        assert_eq!(client("127.0.0.1", &xff, &["127.0.0.1"]), "203.0.113.9");
        assert_eq!(
            client("::ffff:127.0.0.1", &xff, &["127.0.0.1"]),
            "203.0.113.9"
        );
        assert_eq!(
            client("127.0.0.1", &[], &["127.0.0.1"]),
            "127.0.0.1",
            "no header: the proxy host itself"
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = ["127.0.0.1", "10.1.0.0/16"];
        let spoofed = [("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.1.2.3")];
        assert_eq!(
            client("127.0.0.1", &spoofed, &trusted),
            "203.0.113.9",
            "what the client wrote itself (left of its address) is ignored"
        );
        let split = [
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.9:4711, 10.1.2.3"),
        ];
        assert_eq!(client("127.0.0.1", &split, &trusted), "203.0.113.9");
        let all_proxies = [("x-forwarded-for", "10.1.0.7, 10.1.2.3")];
        assert_eq!(client("127.0.0.1", &all_proxies, &trusted), "10.1.0.7");
        let garbage = [("x-forwarded-for", "203.0.113.9, not-an-ip, 10.1.2.3")];
        assert_eq!(
            client("127.0.0.1", &garbage, &trusted),
            "10.1.2.3",
            "an unreadable hop stops the walk at the last readable one"
        );
        let v6 = [("x-forwarded-for", "[2001:db8::7]:443")];
        assert_eq!(client("127.0.0.1", &v6, &trusted), "2001:db8::7");
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = ["127.0.0.1"];
        let fwd = [(
            "forwarded",
            "for=198.51.100.1;proto=http, For=\"[2001:db8:cafe::17]:4711\";proto=https",
        )];
        assert_eq!(client("127.0.0.1", &fwd, &trusted), "2001:db8:cafe::17");
        let hidden = [("forwarded", "for=_hidden")];
        assert_eq!(client("127.0.0.1", &hidden, &trusted), "127.0.0.1");
        let both = [
            ("forwarded", "for=198.51.100.66"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(
            client("127.0.0.1", &both, &trusted),
            "203.0.113.9",
            "X-Forwarded-For wins"
        );
    }
}
