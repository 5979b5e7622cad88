//! The reverse proxies whose `X-Forwarded-For` is believed (`PALISADE_TRUSTED_PROXIES`), and
//! the walk that finds the client behind them.
use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

use http::HeaderMap;

use super::canonical;

/// An address with a prefix length: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// `ADDRESS` or `ADDRESS/PREFIX`. A zero prefix (every address on the internet) is refused:
    /// trusting it would let any client choose its own address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network"))?;
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 1 to {max}"))?,
        };
        if prefix == 0 {
            return Err(format!("{s:?} would trust every address"));
        }
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX << (32 - u32::from(self.prefix));
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX << (128 - u32::from(self.prefix));
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Empty (the default): no proxy is trusted and the TCP peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// A list separated by commas and/or spaces; empty means none.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address. Only a trusted peer's `X-Forwarded-For` is read; it is walked
    /// from the right (each proxy appends the address it was connected from), skipping
    /// trusted hops, and the first untrusted hop is the client: entries left of it were
    /// written by the client and could say anything. An entry that is not an address stops
    /// the walk at the last trusted hop, so garbage never picks an address either.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        for value in headers.get_all("x-forwarded-for").iter().rev() {
            let Ok(value) = value.to_str() else {
                return client;
            };
            for entry in value.rsplit(',') {
                let Some(hop) = parse_hop(entry.trim()) else {
                    return client;
                };
                client = hop;
                if !self.contains(hop) {
                    return client;
                }
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(", "))
    }
}

/// `1.2.3.4`, `2001:db8::1`, or with a port (`1.2.3.4:5678`, `[2001:db8::1]:5678`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusting(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn networks_hold_the_addresses_under_their_prefix() {
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.255.7")) && !net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped is IPv4");
        let one = Network::parse("192.0.2.1").unwrap();
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        assert!(Network::parse("::1").unwrap().contains(ip("::1")));
    }

    #[test]
    fn malformed_or_everything_trusting_lists_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "proxy.internal",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "0.0.0.0/0",
            "::/0",
        ] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert_eq!(
            trusting(" 10.0.0.0/8,192.0.2.1  2001:db8::/32 ").to_string(),
            "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32"
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header_says() {
        let proxies = trusting("10.0.0.0/8");
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            proxies.client_address(ip("198.51.100.4"), &h),
            ip("198.51.100.4")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.0.0.1"), &h),
            ip("10.0.0.1"),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = trusting("10.0.0.0/8, 192.0.2.1");
        let peer = ip("10.0.0.1");
        // The client wrote the first two entries itself; the proxies appended the rest.
        let h = headers(&["1.1.1.1, 6.6.6.6", "203.0.113.9, 192.0.2.1 , 10.3.3.3"]);
        assert_eq!(proxies.client_address(peer, &h), ip("203.0.113.9"));
        let h = headers(&["203.0.113.9:4711"]);
        assert_eq!(proxies.client_address(peer, &h), ip("203.0.113.9"));
        let h = headers(&["[2001:db8::7]:4711"]);
        assert_eq!(proxies.client_address(peer, &h), ip("2001:db8::7"));
        // Only trusted hops: the request came from inside; the left-most of them.
        let h = headers(&["10.9.9.9, 192.0.2.1"]);
        assert_eq!(proxies.client_address(peer, &h), ip("10.9.9.9"));
        // No header from a trusted peer: the peer itself.
        assert_eq!(proxies.client_address(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        let proxies = trusting("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        for value in [
            "nonsense",
            "203.0.113.9, nonsense",
            "203.0.113.9,,",
            "unknown",
        ] {
            assert_eq!(
                proxies.client_address(peer, &headers(&[value])),
                peer,
                "{value}"
            );
        }
        let h = headers(&["203.0.113.9, bogus, 10.4.4.4"]);
        assert_eq!(proxies.client_address(peer, &h), ip("10.4.4.4"));
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"203.0.113.9, \xff").unwrap(),
        );
        assert_eq!(proxies.client_address(peer, &h), peer);
    }
}
