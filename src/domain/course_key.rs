//! Open edX course keys (`course-v1:Org+Course+Run`), validated as opaque-keys does
//! (opaque-keys' CourseLocator).

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CourseKey(String);

/// opaque-keys' `ALLOWED_ID_CHARS = [\w\-~.:]` with re.UNICODE.
fn allowed_id_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '~' | '.' | ':')
}

impl CourseKey {
    pub fn parse(raw: &str) -> Result<CourseKey, ParseError> {
        let invalid = || ParseError(format!("'{raw}' is not a valid course key."));
        let rest = raw.strip_prefix("course-v1:").ok_or_else(invalid)?;
        let fields: Vec<&str> = rest.split('+').collect();
        // org+course+run, optionally followed by branch@/version@ parts.
        if fields.len() < 3 || raw.len() > 255 {
            return Err(invalid());
        }
        for (i, field) in fields.iter().enumerate() {
            let value = if i >= 3 {
                field.strip_prefix("branch@").or_else(|| field.strip_prefix("version@")).ok_or_else(invalid)?
            } else {
                field
            };
            if value.is_empty() || !value.chars().all(allowed_id_char) {
                return Err(invalid());
            }
        }
        Ok(CourseKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn field(&self, index: usize) -> &str {
        self.0["course-v1:".len()..].split('+').nth(index).unwrap_or("")
    }

    pub fn org(&self) -> &str {
        self.field(0)
    }

    pub fn course(&self) -> &str {
        self.field(1)
    }

    pub fn run(&self) -> &str {
        self.field(2)
    }
}

super::stored_string!(CourseKey);

impl std::fmt::Display for CourseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::CourseKey;

    #[test]
    fn accepts_new_style_keys() {
        let key = CourseKey::parse("course-v1:edX+DemoX+Demo_Course").unwrap();
        assert_eq!((key.org(), key.course(), key.run()), ("edX", "DemoX", "Demo_Course"));
        assert!(CourseKey::parse("course-v1:Org+C.1+2026~T1").is_ok());
    }

    #[test]
    fn rejects_malformed_keys() {
        for bad in [
            "",
            "edX/DemoX/Demo",
            "course-v1:edX+DemoX",
            "course-v1:edX++Run",
            "course-v1:edX+Demo X+Run",
            "course-v1:edX+DemoX+Run+",
            "course-v1:edX+Demo/X+Run",
        ] {
            assert!(CourseKey::parse(bad).is_err(), "{bad}");
        }
    }
}
