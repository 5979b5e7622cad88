//! Who is on the other end of a request: address and user agent, as the server's session
//! layer reads them (for rate limits, the audit log and the list of sessions).
mod proxies;

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use uuid::Uuid;

pub use proxies::{Network, TrustedProxies};

use crate::{domain::audit::AuditAction, ssr::db::audit};

/// Longer user agents are cut: they are stored in Redis and the audit log.
pub const MAX_USER_AGENT_CHARS: usize = 512;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Caller {
    /// `peer` is the TCP peer (axum's `ConnectInfo`). When it is one of `proxies`, the address
    /// comes from `X-Forwarded-For` instead (see [`TrustedProxies::client_address`]).
    pub fn from_request(
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        proxies: &TrustedProxies,
    ) -> Self {
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|ua| !ua.is_empty())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        Self {
            ip: peer.map(|p| proxies.client_address(p.ip(), headers)),
            user_agent,
        }
    }

    /// An audit entry recording that this caller did `action`.
    pub fn audit_entry(
        &self,
        action: AuditAction,
        actor: Option<Uuid>,
        target: Option<Uuid>,
        details: serde_json::Value,
    ) -> audit::Entry<'_> {
        audit::Entry {
            actor_id: actor,
            target_id: target,
            action,
            ip: self.ip,
            user_agent: self.user_agent.as_deref(),
            details,
        }
    }

    /// The key rate limits group callers by: the address, or its /64 for IPv6 (one subscriber
    /// usually gets a whole /64, so single addresses would be free to rotate through).
    pub fn ip_key(&self) -> String {
        match self.ip.map(canonical) {
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(ip) => ip.to_string(),
            None => "unknown".into(),
        }
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report them) are
/// the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    const PEER: &str = "10.0.0.1:5000";
    const NONE: TrustedProxies = TrustedProxies::none();

    #[test]
    fn the_peer_address_is_used_unless_the_peer_is_a_trusted_proxy() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        let peer = Some(PEER.parse().unwrap());
        let none = TrustedProxies::default();
        assert_eq!(
            Caller::from_request(&h, peer, &none).ip,
            Some("10.0.0.1".parse().unwrap())
        );
        let ours = TrustedProxies::parse("10.0.0.1").unwrap();
        assert_eq!(
            Caller::from_request(&h, peer, &ours).ip,
            Some("203.0.113.9".parse().unwrap())
        );
        // Without a peer there is no knowing whether the header came from a proxy.
        assert_eq!(Caller::from_request(&h, None, &ours).ip, None);
    }

    #[test]
    fn user_agents_are_cut_to_512_characters() {
        let long = "é".repeat(600);
        let meta = Caller::from_request(&headers(&[("user-agent", "x")]), None, &NONE);
        assert_eq!(meta.user_agent.as_deref(), Some("x"));
        let mut h = HeaderMap::new();
        h.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_bytes(long.as_bytes()).unwrap(),
        );
        // Not valid visible ASCII: ignored rather than guessed at.
        assert_eq!(Caller::from_request(&h, None, &NONE).user_agent, None);
        let h = headers(&[("user-agent", &"a".repeat(600))]);
        let ua = Caller::from_request(&h, None, &NONE).user_agent.unwrap();
        assert_eq!(ua.chars().count(), MAX_USER_AGENT_CHARS);
    }

    #[test]
    fn ipv6_callers_are_grouped_by_their_64() {
        let meta = |ip: &str| Caller {
            ip: Some(ip.parse().unwrap()),
            user_agent: None,
        };
        assert_eq!(
            meta("2001:db8:1:2:aaaa::1").ip_key(),
            meta("2001:db8:1:2:bbbb::9").ip_key()
        );
        assert_eq!(meta("::ffff:192.0.2.7").ip_key(), "192.0.2.7");
        assert_eq!(meta("192.0.2.7").ip_key(), "192.0.2.7");
        assert_eq!(Caller::default().ip_key(), "unknown");
    }
}
