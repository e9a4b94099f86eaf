//! Email addresses: a pragmatic check (one `@`, a dotted domain, no spaces), lower-cased
//! domain, at most 255 characters (the checkout spec's maximum; RFC 5321's path limit is
//! 254, but a client validating against the spec sends 255 and expects it to pass).

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, ParseError> {
        let raw = raw.trim();
        let invalid = || ParseError(format!("'{raw}' is not a valid email address."));
        if raw.len() > 255 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
            && !domain.contains(['@', '(', ')', '<', '>', ',', ';', '[', ']', '"']);
        if local.is_empty() || local.len() > 64 || local.contains(['@', '<', '>', '(', ')', ',', ';']) || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::stored_string!(Email);

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_normalises_addresses() {
        assert_eq!(Email::parse(" Ann@Example.ORG ").unwrap().as_str(), "Ann@example.org");
        assert!(Email::parse("a.b+tag@sub.example.co").is_ok());
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in ["", "ann", "ann@", "@example.org", "ann@example", "a b@example.org", "ann@ex..org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stored_address_renders_as_it_was_stored() {
        // Read back, an address is not parsed again: the surfaces answer it as it was stored.
        let stored = Email::from_stored("Ann@Example.ORG".to_owned());
        assert_eq!(serde_json::to_string(&stored).unwrap(), "\"Ann@Example.ORG\"");
    }
}
