//! The course definition, as the admin API's body, the console's form and the fixture
//! file's courses give it: one parser, for create and PATCH, into `catalog::CourseFields`.

use super::catalog::{CourseFields, Mode};
use super::fields::{as_bool, as_int, as_string, as_text, as_timestamp, Fields};
use super::Error;
use crate::domain::{CourseCode, CourseKey, Currency, Label, Money, Title};
use serde_json::Value;

/// One parser for create and PATCH: absent fields stay `None`.
pub fn parse_course_fields(body: &Value) -> Result<(Option<CourseKey>, CourseFields), Error> {
    let mut f = Fields::of(body)?;
    let mut known = COURSE_FIELDS.to_vec();
    known.push("modes");
    f.reject_unknown(&known);
    let key = f.get("course_key", |v| CourseKey::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let currency = f.get("currency", |v| Currency::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let price_currency = currency.unwrap_or(Currency::USD);
    let fields = CourseFields {
        code: f.get("code", as_text::<CourseCode>),
        title: f.required_value("title", as_text::<Title>),
        level: f.get("level", as_text::<Label>),
        duration_hours: f.get("duration_hours", as_int),
        price: f.required_value("price", |v| parse_money(v, price_currency)),
        start: f.get("start", as_timestamp),
        end: f.get("end", as_timestamp),
        enrollment_start: f.get("enrollment_start", as_timestamp),
        enrollment_end: f.get("enrollment_end", as_timestamp),
        invitation_only: f.required_value("invitation_only", as_bool),
        max_enrollments: f.get("max_enrollments", as_int),
        self_paced: f.required_value("self_paced", as_bool),
        published: f.required_value("published", as_bool),
        modes: f.required_value("modes", |v| {
            v.as_array().ok_or("must be a list of modes")?.iter().map(|m| parse_mode(m, price_currency)).collect()
        }),
        access_days: f.get("access_days", as_int),
        expiry_action: f.required_value("expiry_action", as_string),
        expiry_notice_days: f.get("expiry_notice_days", as_int),
        waitlist: f.required_value("waitlist", as_bool),
        waitlist_limit: f.get("waitlist_limit", as_int),
        suspended_holds_seat: f.required_value("suspended_holds_seat", as_bool),
    };
    if currency.is_some() && !f.has("price") {
        f.fail("currency", "Give currency together with price.");
    }
    f.finish()?;
    Ok((key, fields))
}

pub fn parse_mode(v: &Value, default_currency: Currency) -> Result<Mode, String> {
    let o = v.as_object().ok_or("each mode must be an object")?;
    let slug = o.get("slug").and_then(Value::as_str).ok_or("each mode needs a slug")?.to_owned();
    if slug.is_empty() || slug.len() > 100 || !slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("mode slug '{slug}' must be 1 to 100 letters, digits, '-' or '_'"));
    }
    let currency = match o.get("currency").and_then(Value::as_str) {
        Some(c) => Currency::parse(c).map_err(|e| e.0)?,
        None => default_currency,
    };
    let min_price = match o.get("min_price") {
        None | Some(Value::Null) => Money::zero(currency),
        Some(p) => parse_money(p, currency)?,
    };
    let text = |k: &str| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_text::<Title>(v).map(Some).map_err(|e| format!("{k}: {e}")),
        }
    };
    let expiration = match o.get("expiration_datetime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(as_timestamp(v)?),
    };
    let name = text("name")?.unwrap_or_else(|| {
        let mut chars = slug.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    });
    Ok(Mode { slug, name, min_price, expiration, description: text("description")?, sku: text("sku")? })
}

/// A price as "299.00" or a whole number; never a float (rounding would lose cents).
pub fn parse_money(v: &Value, currency: Currency) -> Result<Money, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return Err("must be a decimal string such as \"299.00\"".into()),
    };
    Money::parse(&text, currency).map_err(|e| e.0)
}

/// The admin API's course body fields (also the fixture file's, and the console's form).
pub const COURSE_FIELDS: [&str; 21] = [
    "course_key",
    "code",
    "title",
    "level",
    "duration_hours",
    "price",
    "currency",
    "start",
    "end",
    "enrollment_start",
    "enrollment_end",
    "invitation_only",
    "max_enrollments",
    "self_paced",
    "published",
    "access_days",
    "expiry_action",
    "expiry_notice_days",
    "waitlist",
    "waitlist_limit",
    "suspended_holds_seat",
];
