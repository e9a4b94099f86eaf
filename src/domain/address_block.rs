//! Addresses and CIDR blocks (`10.0.0.0/8`, `::1`): `server.trusted_proxies`, parsed once
//! when the configuration is read.

/// An address or a CIDR block (`10.0.0.0/8`, `::1`), for `server.trusted_proxies`.
#[derive(Debug, Clone, Copy)]
pub struct AddressBlock {
    network: std::net::IpAddr,
    prefix: u32,
}

impl AddressBlock {
    pub fn parse(raw: &str) -> Option<AddressBlock> {
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
            None => (raw.trim(), None),
        };
        let network: std::net::IpAddr = address.parse().ok()?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(AddressBlock { network, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let to_bits = |ip: std::net::IpAddr| -> (u128, u32) {
            match ip {
                std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v6), 128),
                },
            }
        };
        let ((net, net_bits), (addr, addr_bits)) = (to_bits(self.network), to_bits(ip));
        if net_bits != addr_bits {
            return false;
        }
        let shift = net_bits - self.prefix;
        shift >= net_bits || (net >> shift) == (addr >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::AddressBlock;

    #[test]
    fn address_blocks_match_their_members_only() {
        let block = AddressBlock::parse("10.0.0.0/8").unwrap();
        assert!(block.contains("10.1.2.3".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        assert!(AddressBlock::parse("127.0.0.1").unwrap().contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(AddressBlock::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(AddressBlock::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(AddressBlock::parse("10.0.0.0/33").is_none() && AddressBlock::parse("nope").is_none());
    }
}
