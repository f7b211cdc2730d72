//! Source address ranges: the unit the coordinator counts registrations, leases and
//! requests by, because one party easily holds many addresses of one range (an IPv4
//! /24, an IPv6 /64 — what one subscriber or one cloud host usually gets) but not many
//! ranges. IPv4-mapped IPv6 addresses count as the IPv4 address they carry.

use std::net::IpAddr;

/// The range `ip` belongs to, as text: `203.0.113.0/24` or `2001:db8:1:2::/64`.
pub(crate) fn range_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_v4_slash_24_and_v6_slash_64() {
        let r = |s: &str| range_of(s.parse().unwrap());
        assert_eq!(r("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(r("127.0.0.2"), r("127.0.0.201"));
        assert_ne!(r("127.0.0.2"), r("127.0.1.2"));
        assert_eq!(r("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(r("2001:db8:1:2:aaaa::1"), r("2001:db8:1:2:bbbb::9"));
        assert_eq!(r("::ffff:10.1.2.3"), "10.1.2.0/24");
    }
}
