//! The client's address as the limiters count it, for the API and the pages alike.

use actix_web::HttpRequest;

/// The client address used for the per-address limits. Behind trusted proxies it is the
/// `X-Forwarded-For` entry `settings.trusted_proxy_hops` places from the right: each proxy appends
/// the address it received the request from, so entries further left are the client's own words.
/// With fewer entries than proxies the request did not come through them all: the peer counts.
pub fn client_address(req: &HttpRequest, settings: &crate::config::Settings) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = settings
        .trust_proxy_headers
        .then(|| {
            forwarded_client(
                req.headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok()),
                settings.trusted_proxy_hops,
            )
        })
        .flatten();
    match forwarded.or(peer) {
        Some(ip) => limit_key(ip),
        None => "unknown".into(),
    }
}

/// The entry `hops` places from the right of the `X-Forwarded-For` lines taken together (an
/// address, with or without a port: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`).
fn forwarded_client<'a>(
    lines: impl Iterator<Item = &'a str>,
    hops: usize,
) -> Option<std::net::IpAddr> {
    let entries: Vec<&str> = lines
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let index = entries.len().checked_sub(hops.max(1))?;
    let entry = entries[index];
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// What the per-address limits count by: an IPv4 address (an IPv4-mapped IPv6 address is the
/// IPv4 address it maps), or the /64 network of an IPv6 address — one host is routinely given a
/// whole /64, and would otherwise have 2^64 fresh counters.
fn limit_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{forwarded_client, limit_key};

    #[test]
    fn the_client_cannot_choose_its_address() {
        let one = |h: &str| forwarded_client([h].into_iter(), 1).map(|ip| ip.to_string());
        // The proxy appended 203.0.113.9; what the client wrote to the left is ignored.
        assert_eq!(one("1.1.1.1, 2.2.2.2, 203.0.113.9").unwrap(), "203.0.113.9");
        assert_eq!(one("203.0.113.9").unwrap(), "203.0.113.9");
        assert_eq!(
            forwarded_client(["9.9.9.9, 198.51.100.7", "10.0.0.2"].into_iter(), 2)
                .unwrap()
                .to_string(),
            "198.51.100.7"
        );
        // Ports, as some gateways append them.
        assert_eq!(one("x, 203.0.113.9:5678").unwrap(), "203.0.113.9");
        assert_eq!(one("[2001:db8::1]:443").unwrap(), "2001:db8::1");
        // Fewer entries than proxies, or garbage: not an address.
        assert!(forwarded_client(["10.0.0.2"].into_iter(), 2).is_none());
        assert!(one("not-an-address").is_none());
        assert!(one("").is_none());
    }

    #[test]
    fn limits_count_an_ipv6_network_as_one_client() {
        let key = |s: &str| limit_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
    }
}
