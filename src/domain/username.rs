//! Usernames as Open edX allows them: 2–150 characters of letters, digits and `_.+-`
//! (Django's `[\w.@+-]`, less `@` for new accounts: an identifier with `@` is an email), and
//! the key that keeps look-alike usernames apart.

use super::ParseError;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// A username for a new account. `@` is refused: wherever an identifier may be a
    /// username or an email (logins, enrollment identifiers), one with `@` is an email.
    pub fn parse(raw: &str) -> Result<Username, ParseError> {
        let name = Username::existing(raw)?;
        if raw.contains('@') {
            return Err(ParseError(format!(
                "Usernames can only contain letters, numbers, and the characters _ . + -; '{raw}' has an @ (an email address is not a username)."
            )));
        }
        Ok(name)
    }

    /// The name of an account that may predate the `@` rule (imported from Open edX, whose
    /// usernames may hold `@`): for look-ups and imports.
    pub fn existing(raw: &str) -> Result<Username, ParseError> {
        let count = raw.chars().count();
        if !(2..=150).contains(&count) {
            return Err(ParseError(format!("Username must be between 2 and 150 characters long; '{raw}' is not.")));
        }
        if !raw.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-')) {
            return Err(ParseError(format!(
                "Usernames can only contain letters, numbers, and the characters _ . + -; '{raw}' has others."
            )));
        }
        Ok(Username(raw.to_owned()))
    }

    /// Two usernames with the same key are one name to a person reading them: NFKC (what
    /// Django's `normalize_username` applies; full-width letters become ASCII), lower case
    /// (Open edX refuses `username__iexact` duplicates), then Unicode TR39's confusable
    /// skeleton (Cyrillic `с` reads as Latin `c`).
    pub fn similarity_key(raw: &str) -> String {
        // Skeleton first (capital I and small l are one glyph), then case, then the
        // skeleton of the lower-case form (Cyrillic с under a capital).
        let normal: String = raw.nfkc().collect();
        let shaped: String = unicode_security::skeleton(&normal).collect::<String>().to_lowercase();
        unicode_security::skeleton(&shaped).collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::stored_string!(Username);

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn look_alike_usernames_share_a_key() {
        let key = Username::similarity_key("cat");
        for other in ["Cat", "CAT", "\u{ff43}at", "\u{0441}at"] {
            assert_eq!(Username::similarity_key(other), key, "{other}");
        }
        assert_eq!(Username::similarity_key("biII"), Username::similarity_key("bill"));
        assert_eq!(Username::similarity_key("paypaI"), Username::similarity_key("paypal"));
        assert_ne!(Username::similarity_key("cab"), key);
    }

    #[test]
    fn new_usernames_have_no_at_sign_but_existing_ones_may() {
        assert!(Username::parse("ann.lee+1@x").is_err());
        assert!(Username::existing("ann.lee+1@x").is_ok());
        assert!(Username::parse("ann.lee+1").is_ok());
        assert!(Username::parse("a").is_err());
        assert!(Username::parse("ann lee").is_err());
        assert!(Username::parse("ann/lee").is_err());
    }
}
