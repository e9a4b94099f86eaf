//! UTC instants, stored and serialised as ISO 8601 with `Z` ("2026-01-15T10:30:00Z").

use super::ParseError;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }

    pub fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    pub fn unix(&self) -> i64 {
        self.0
    }

    pub fn plus_seconds(&self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// Accepts RFC 3339 with any offset, a date-time without one (UTC, as Open edX's
    /// dateutil-parsed filters such as `2015-12-09T00:00:00` mean it), and a bare date
    /// (midnight UTC).
    pub fn parse(raw: &str) -> Result<Timestamp, ParseError> {
        let invalid = || ParseError(format!("'{raw}' is not an ISO 8601 date-time (e.g. 2026-01-15T10:30:00Z)."));
        if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
            return Ok(Timestamp(at.unix_timestamp()));
        }
        let naive = [
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        ];
        if let Some(at) = naive.iter().find_map(|f| time::PrimitiveDateTime::parse(raw, f).ok()) {
            return Ok(Timestamp(at.assume_utc().unix_timestamp()));
        }
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(raw, &date_format).map_err(|_| invalid())?;
        Ok(Timestamp(date.midnight().assume_utc().unix_timestamp()))
    }

    pub fn to_iso(&self) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        OffsetDateTime::from_unix_timestamp(self.0)
            .map(|t| t.to_offset(UtcOffset::UTC))
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn round_trips_utc_and_converts_offsets() {
        let t = Timestamp::parse("2026-01-15T10:30:00Z").unwrap();
        assert_eq!(t.to_iso(), "2026-01-15T10:30:00Z");
        assert_eq!(Timestamp::parse("2026-01-15T12:30:00+02:00").unwrap(), t);
        assert_eq!(Timestamp::parse("2026-01-15").unwrap().to_iso(), "2026-01-15T00:00:00Z");
        assert!(Timestamp::parse("15/01/2026").is_err());
        assert_eq!(Timestamp::parse("2026-01-15T10:30:00").unwrap(), t);
        assert_eq!(Timestamp::parse("2026-01-15 10:30:00").unwrap(), t);
        assert_eq!(Timestamp::parse("2026-01-15T10:30:00.250").unwrap(), t);
    }
}
