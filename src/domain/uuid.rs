//! UUIDs as Django's `<uuid:…>` path converter matches them: 8-4-4-4-12 hex digits,
//! compared lower-case. New ones are random (version 4).

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uuid(String);

impl Uuid {
    pub fn parse(raw: &str) -> Result<Uuid, ParseError> {
        let groups: Vec<&str> = raw.split('-').collect();
        let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
        if !lengths_ok || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(ParseError(format!("'{raw}' is not a UUID.")));
        }
        Ok(Uuid(raw.to_ascii_lowercase()))
    }

    /// A random version-4 UUID (RFC 9562 §5.4).
    pub fn new_v4(random: [u8; 16]) -> Uuid {
        let mut b = random;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex = super::hex(&b);
        Uuid(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::stored_string!(Uuid);

#[cfg(test)]
mod tests {
    use super::Uuid;

    #[test]
    fn parses_canonical_uuids_and_makes_version_4_ones() {
        assert_eq!(
            Uuid::parse("3F2504E0-4F89-41D3-9A0C-0305E82C3301").unwrap().as_str(),
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        );
        for bad in ["", "3f2504e04f8941d39a0c0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c330g", "path-v1:a+b+c+d"] {
            assert!(Uuid::parse(bad).is_err(), "{bad}");
        }
        let made = Uuid::new_v4([0xff; 16]);
        assert_eq!(made.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(Uuid::parse(made.as_str()).is_ok());
    }
}
