//! Usernames as Open edX allows them: 2–150 characters of letters, digits and `_.@+-`
//! (Django's `[\w.@+-]`), which is also what the v1 URL pattern matches.

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, ParseError> {
        let count = raw.chars().count();
        if !(2..=150).contains(&count) {
            return Err(ParseError(format!("Username must be between 2 and 150 characters long; '{raw}' is not.")));
        }
        if !raw.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-')) {
            return Err(ParseError(format!(
                "Usernames can only contain letters, numbers, and the characters _ . @ + -; '{raw}' has others."
            )));
        }
        Ok(Username(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn accepts_django_usernames_and_rejects_others() {
        assert!(Username::parse("ann.lee+1@x").is_ok());
        assert!(Username::parse("a").is_err());
        assert!(Username::parse("ann lee").is_err());
        assert!(Username::parse("ann/lee").is_err());
    }
}
