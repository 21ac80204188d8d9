//! IP networks (an address or a CIDR block), as `server.trusted_proxies` lists them.

use std::fmt;
use std::net::IpAddr;

/// An address block: `192.0.2.7` (one address) or `192.0.2.0/24`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parse `ADDR` or `ADDR/PREFIX`. Host bits set under the prefix are refused (a typo like
    /// `10.0.0.1/8` more likely meant something else than the whole of 10/8).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or a CIDR block like 10.0.0.0/8"))?;
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        let net = Self { addr, prefix };
        if net.network() != addr {
            return Err(format!(
                "{s:?} has host bits set; did you mean {}/{prefix}?",
                net.network()
            ));
        }
        Ok(net)
    }

    /// Is `ip` inside this block? IPv4-mapped IPv6 addresses (`::ffff:192.0.2.7`, as a
    /// dual-stack socket reports IPv4 peers) count as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }

    fn network(&self) -> IpAddr {
        mask(self.addr, self.prefix)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ip` with every bit after the first `prefix` cleared.
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or_else(|_| unreachable!("test address {s}"))
    }

    #[test]
    fn single_addresses_and_blocks_match_what_they_cover() {
        let one = IpNet::parse("127.0.0.1").expect("address");
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        assert!(
            one.contains(ip("::ffff:127.0.0.1")),
            "IPv4-mapped peers match"
        );
        let block = IpNet::parse("192.0.2.0/24").expect("block");
        assert!(block.contains(ip("192.0.2.200")));
        assert!(!block.contains(ip("192.0.3.1")));
        let v6 = IpNet::parse("2001:db8::/32").expect("v6 block");
        assert!(v6.contains(ip("2001:db8:1:2::3")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("192.0.2.1")));
        let all = IpNet::parse("0.0.0.0/0").expect("everything");
        assert!(all.contains(ip("203.0.113.9")));
        assert_eq!(block.to_string(), "192.0.2.0/24");
        assert_eq!(one.to_string(), "127.0.0.1");
    }

    #[test]
    fn malformed_entries_are_refused_with_a_reason() {
        for bad in [
            "",
            "proxy.example",
            "10.0.0.0/33",
            "10.0.0.1/8",
            "::1/129",
            "1.2.3.4/x",
        ] {
            assert!(IpNet::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let e = IpNet::parse("10.0.0.1/8").expect_err("host bits");
        assert!(e.contains("10.0.0.0/8"), "{e}");
    }
}
