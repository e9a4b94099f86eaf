//! Typed fields read out of a JSON object, every field error collected at once: the
//! readers of the request bodies at the edge, and of the course definition (`course_definition`).

use super::Error;
use crate::domain::Timestamp;
use serde_json::Value;

/// Reads optional typed fields out of a JSON object, collecting every field error at once.
pub struct Fields<'v> {
    object: &'v serde_json::Map<String, Value>,
    pub errors: Error,
}

impl<'v> Fields<'v> {
    pub fn of(value: &'v Value) -> Result<Fields<'v>, Error> {
        let object = value.as_object().ok_or_else(|| Error::validation("The JSON body must be an object."))?;
        Ok(Fields { object, errors: Error::validation("Some fields are invalid.") })
    }

    pub fn has(&self, name: &str) -> bool {
        self.object.contains_key(name)
    }

    pub fn reject_unknown(&mut self, known: &[&str]) {
        for key in self.object.keys() {
            if !known.contains(&key.as_str()) {
                self.fail(key, &format!("Unknown field '{key}'."));
            }
        }
    }

    pub fn fail(&mut self, name: &str, message: &str) {
        self.errors.field_errors.insert(name.to_owned(), message.to_owned());
    }

    /// Parses a present field with `parse`; `Some(None)` for an explicit null.
    pub fn get<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<Option<T>> {
        match self.object.get(name)? {
            Value::Null => Some(None),
            v => match parse(v) {
                Ok(t) => Some(Some(t)),
                Err(message) => {
                    self.fail(name, &message);
                    None
                }
            },
        }
    }

    /// A present field that may not be null.
    pub fn required_value<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match self.get(name, parse) {
            Some(Some(v)) => Some(v),
            Some(None) => {
                self.fail(name, &format!("{name} may not be null."));
                None
            }
            None => None,
        }
    }

    pub fn required<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        if !self.has(name) {
            self.fail(name, &format!("{name} is required."));
            return None;
        }
        self.required_value(name, parse)
    }

    /// Ok when no field failed; otherwise one validation error listing them all.
    pub fn finish(self) -> Result<(), Error> {
        if self.errors.field_errors.is_empty() {
            return Ok(());
        }
        let mut error = self.errors;
        let summary: Vec<String> = error.field_errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        error.developer_message = summary.join(" ");
        error.user_message = error.developer_message.clone();
        Err(error)
    }
}

/// Strict JSON types for the JSON-only dialects (v2, admin); the DRF dialects read values
/// with `api::body::text` and `api::body::flag`, as DRF's fields do.
pub fn as_string(v: &Value) -> Result<String, String> {
    v.as_str().map(str::to_owned).ok_or_else(|| "must be a string".to_owned())
}

/// A stored free-text field (`domain::text`): its kind's length and no control characters.
pub fn as_text<T: crate::domain::StoredText>(v: &Value) -> Result<String, String> {
    T::parse_text(&as_string(v)?).map(T::into_text).map_err(|e| e.0)
}

pub fn as_bool(v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| "must be true or false".to_owned())
}

pub fn as_int(v: &Value) -> Result<i64, String> {
    v.as_i64().ok_or_else(|| "must be a whole number".to_owned())
}

pub fn as_timestamp(v: &Value) -> Result<Timestamp, String> {
    Timestamp::parse(v.as_str().ok_or("must be an ISO 8601 string")?).map_err(|e| e.0)
}
