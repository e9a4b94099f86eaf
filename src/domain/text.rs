//! Free text the admin side stores (names, titles, descriptions) and course codes: every
//! kind has a maximum length in characters, and none holds a control character other than
//! tab, line feed or carriage return (a NUL or an escape sequence in a name ends up in
//! CSV exports, emails and terminals). The OpenAPI document states each limit from the
//! same constants, as `maxLength` and `TEXT_PATTERN`.

use super::ParseError;

/// The JSON Schema (ECMA 262) pattern of `Text`: no C0/C1 control but tab, LF and CR.
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// The longest URL stored (a certificate link, a webhook endpoint).
pub const URL_MAX_CHARS: usize = 2000;

fn refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Text of at most `MAX` characters without control characters (but tab and line breaks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub const MAX_CHARS: usize = MAX;

    pub fn parse(raw: &str) -> Result<Text<MAX>, ParseError> {
        let count = raw.chars().count();
        if count > MAX {
            return Err(ParseError(format!("Ensure this field has no more than {MAX} characters (it has {count}).")));
        }
        if let Some(c) = raw.chars().find(|c| refused_control(*c)) {
            return Err(ParseError(format!(
                "Control characters are not allowed (found U+{:04X}); only tab and line breaks are.",
                c as u32
            )));
        }
        Ok(Text(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The free-text kinds, for the readers at the edge (`api::http::as_text::<Title>`).
pub trait StoredText: Sized {
    fn parse_text(raw: &str) -> Result<Self, ParseError>;
    fn into_text(self) -> String;
}

impl<const MAX: usize> StoredText for Text<MAX> {
    fn parse_text(raw: &str) -> Result<Self, ParseError> {
        Text::parse(raw)
    }
    fn into_text(self) -> String {
        self.0
    }
}

impl StoredText for CourseCode {
    fn parse_text(raw: &str) -> Result<Self, ParseError> {
        CourseCode::parse(raw)
    }
    fn into_text(self) -> String {
        self.0
    }
}

/// A person's name (full, first or last), a course or path title, a client's or a mode's name.
pub type Title = Text<255>;
/// A short label: a course's level, a path's level, duration or time commitment.
pub type Label = Text<100>;
/// A path's description or a roster change's reason.
pub type Description = Text<10_000>;

/// A course's catalog code (`WEB-301`, the checkout API's `course.code`): a letter or digit,
/// then letters, digits, `.`, `_` or `-`; at most 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseCode(String);

impl CourseCode {
    pub const MAX_CHARS: usize = 50;
    /// `parse`'s rule as a JSON Schema pattern.
    pub const PATTERN: &'static str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$";

    pub fn parse(raw: &str) -> Result<CourseCode, ParseError> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !first_ok || !rest_ok || raw.len() > Self::MAX_CHARS {
            return Err(ParseError(format!(
                "A course code is 1 to 50 letters, digits, '.', '_' or '-', starting with a letter or digit; '{}' is not.",
                raw.escape_debug()
            )));
        }
        Ok(CourseCode(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_a_length_limit_in_characters_and_refuses_control_characters() {
        assert!(Text::<3>::parse("äöü").is_ok(), "characters, not bytes");
        assert!(Text::<3>::parse("abcd").is_err());
        assert!(Title::parse("Line one\nline two\r\n\tindented").is_ok());
        for bad in ["a\0b", "\u{1b}[31mred", "bell\u{7}", "\u{85}next", "del\u{7f}"] {
            assert!(Title::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Title::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn course_codes_follow_one_pattern() {
        for good in ["WEB-301", "APP101", "a", "CS.1_2-3", &"X".repeat(50)] {
            assert!(CourseCode::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-WEB", "WEB 301", "WEB/301", "WÉB", "A\0", &"X".repeat(51)] {
            assert!(CourseCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
