//! Learning path keys as the learning-paths plugin writes them: `path-v1:org+number+run+group`
//! (the learning-paths plugin's LearningPathKey).

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LearningPathKey(String);

impl LearningPathKey {
    pub fn parse(raw: &str) -> Result<LearningPathKey, ParseError> {
        let invalid = || ParseError("Invalid format. Use: 'path-v1:{org}+{number}+{run}+{group}'".to_owned());
        let rest = raw.strip_prefix("path-v1:").ok_or_else(invalid)?;
        let fields: Vec<&str> = rest.split('+').collect();
        let field_ok = |f: &&str| {
            !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '~' | '.' | ':'))
        };
        if fields.len() != 4 || !fields.iter().all(field_ok) || raw.len() > 255 {
            return Err(invalid());
        }
        Ok(LearningPathKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::stored_string!(LearningPathKey);

impl std::fmt::Display for LearningPathKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::LearningPathKey;

    #[test]
    fn accepts_four_part_keys_only() {
        assert!(LearningPathKey::parse("path-v1:Org+WEB+2026+T1").is_ok());
        for bad in
            ["path-v1:Org+WEB+2026", "course-v1:A+B+C", "path-v1:a+b+c+d+e", "path-v1:a++c+d", "path-v1:a b+b+c+d"]
        {
            assert!(LearningPathKey::parse(bad).is_err(), "{bad}");
        }
    }
}
