//! `POST /api/v1/enrollments`: the checkout surface (docs/architecture.md).
//! One nested JSON request creates the student, takes a simulated payment and enrolls
//! them atomically. Every field is validated here and all problems are reported at once
//! (422, keyed `student.email`, `payment.card.number`…). The card number and CVV are
//! checked and then dropped: only the last four digits are stored, nothing is logged.

use super::errors::Dialect;
use super::http::{json, Ctx};
use super::router::{Doc, Route};
use crate::core::checkout::{self, Address, Method, Order, Payment, Student};
use crate::core::Error;
use crate::domain::{CardNumber, Currency, Email, Money, Timestamp};
use rouille::Response;
use serde_json::{json, Map, Value};
use std::time::Instant;

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: "POST",
        path: "/api/v1/enrollments",
        dialect: Dialect::Checkout,
        handler: post_enrollments,
        doc: Doc {
            summary: "Create a student, take a (simulated) payment and enroll them, in one transaction",
            tag: "checkout",
            auth: true,
            request: Some("CheckoutRequest"),
            status: 201,
            response: Some("CheckoutResponse"),
            query: &[],
        },
    }]
}

/// Collects `dotted.field → message` problems while reading the nested body.
struct Problems(Error);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.field_errors.entry(field.to_owned()).or_insert_with(|| message.into());
    }
}

fn object<'v>(value: &'v Value, field: &str, problems: &mut Problems) -> Option<&'v Map<String, Value>> {
    match value.get(field) {
        Some(Value::Object(o)) => Some(o),
        None | Some(Value::Null) => None,
        Some(_) => {
            problems.add(field, format!("The {field} field must be an object."));
            None
        }
    }
}

/// A string field; `min..=max` characters when given.
fn text(
    o: &Map<String, Value>,
    prefix: &str,
    key: &str,
    required: bool,
    min: usize,
    max: usize,
    problems: &mut Problems,
) -> Option<String> {
    let field = format!("{prefix}.{key}");
    match o.get(key) {
        None | Some(Value::Null) => {
            if required {
                problems.add(&field, format!("The {field} field is required."));
            }
            None
        }
        Some(Value::String(s)) => {
            let n = s.trim().chars().count();
            if n < min || n > max {
                problems.add(&field, format!("The {field} field must be between {min} and {max} characters."));
                None
            } else {
                Some(s.trim().to_owned())
            }
        }
        Some(_) => {
            problems.add(&field, format!("The {field} field must be a string."));
            None
        }
    }
}

fn boolean(o: Option<&Map<String, Value>>, prefix: &str, key: &str, default: bool, problems: &mut Problems) -> bool {
    match o.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            problems.add(&format!("{prefix}.{key}"), format!("The {prefix}.{key} field must be true or false."));
            default
        }
    }
}

fn date(raw: &str) -> Option<Timestamp> {
    (raw.len() == 10).then(|| Timestamp::parse(raw).ok()).flatten()
}

fn phone_ok(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
        && !p[1..].contains('+')
}

fn address(o: &Map<String, Value>, prefix: &str, problems: &mut Problems) -> Option<Address> {
    let street = text(o, prefix, "street", true, 1, 255, problems);
    let city = text(o, prefix, "city", true, 1, 100, problems);
    let country = text(o, prefix, "country", true, 2, 2, problems).map(|c| c.to_ascii_uppercase());
    if country.as_ref().is_some_and(|c| !c.chars().all(|ch| ch.is_ascii_alphabetic())) {
        problems.add(&format!("{prefix}.country"), "The country must be a 2-letter ISO code.");
    }
    let postal_code = text(o, prefix, "postal_code", true, 1, 20, problems);
    Some(Address { street: street?, city: city?, country: country?, postal_code: postal_code? })
}

fn student(body: &Value, today: Timestamp, problems: &mut Problems) -> Option<Student> {
    let Some(s) = object(body, "student", problems) else {
        problems.add("student", "The student field is required.");
        return None;
    };
    let email = text(s, "student", "email", true, 3, 255, problems).and_then(|e| match Email::parse(&e) {
        Ok(e) => Some(e),
        Err(_) => {
            problems.add("student.email", "The student.email field must be a valid email address.");
            None
        }
    });
    let first_name = text(s, "student", "first_name", true, 2, 100, problems);
    let last_name = text(s, "student", "last_name", true, 2, 100, problems);
    let phone = text(s, "student", "phone", false, 1, 30, problems);
    if phone.as_deref().is_some_and(|p| !phone_ok(p)) {
        problems.add("student.phone", "The student.phone field must be a valid international phone number.");
    }
    let date_of_birth = text(s, "student", "date_of_birth", false, 10, 10, problems);
    if let Some(raw) = &date_of_birth {
        let earliest = Timestamp::parse("1900-01-01").ok();
        // "Before today" compares dates: today's date itself is not before today.
        let today = date(&today.to_iso()[..10]);
        match date(raw) {
            Some(d) if Some(d) > earliest && Some(d) < today => {}
            _ => problems.add(
                "student.date_of_birth",
                "The student.date_of_birth must be a date (YYYY-MM-DD) after 1900-01-01 and before today.",
            ),
        }
    }
    let address = match s.get("address") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => address(a, "student.address", problems),
        Some(_) => {
            problems.add("student.address", "The student.address field must be an object.");
            None
        }
    };
    let preferences = s.get("preferences").and_then(Value::as_object);
    let language = preferences.and_then(|p| text(p, "student.preferences", "language", false, 2, 2, problems));
    if language.as_deref().is_some_and(|l| !["en", "es", "fr", "de", "pt"].contains(&l)) {
        problems.add("student.preferences.language", "The selected student.preferences.language is invalid.");
    }
    Some(Student {
        email: email?,
        first_name: first_name?,
        last_name: last_name?,
        phone,
        date_of_birth,
        address,
        language,
    })
}

/// An amount as a JSON number or decimal string, kept exact (never through a float sum).
fn amount(value: Option<&Value>, currency: Currency, problems: &mut Problems) -> Option<Money> {
    let raw = match value {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            problems.add("payment.amount", "The payment.amount field is required.");
            return None;
        }
        Some(_) => {
            problems.add("payment.amount", "The payment.amount field must be a number.");
            return None;
        }
    };
    match Money::parse(&raw, currency) {
        Ok(m) if m.minor() <= 99_999_999 => Some(m),
        _ => {
            problems.add(
                "payment.amount",
                "The payment.amount must be between 0 and 999999.99, with at most two decimals.",
            );
            None
        }
    }
}

fn payment(body: &Value, today: Timestamp, problems: &mut Problems) -> Option<Payment> {
    let Some(p) = object(body, "payment", problems) else {
        problems.add("payment", "The payment field is required.");
        return None;
    };
    let currency = text(p, "payment", "currency", true, 3, 3, problems).and_then(|c| {
        let allowed = ["USD", "EUR", "GBP", "CAD"].contains(&c.to_ascii_uppercase().as_str());
        if !allowed {
            problems.add("payment.currency", "The payment.currency must be one of USD, EUR, GBP, CAD.");
        }
        Currency::parse(&c).ok().filter(|_| allowed)
    });
    let amount = amount(p.get("amount"), currency.unwrap_or(Currency::USD), problems);
    let method = text(p, "payment", "method", true, 1, 30, problems).and_then(|m| {
        let parsed = Method::parse(&m);
        if parsed.is_none() {
            problems.add(
                "payment.method",
                "The payment.method must be one of credit_card, debit_card, paypal, bank_transfer.",
            );
        }
        parsed
    });
    let coupon_code = text(p, "payment", "coupon_code", false, 1, 50, problems);
    let card = match (method, p.get("card").and_then(Value::as_object)) {
        (Some(m), Some(card)) if m.needs_card() => card_details(card, today, problems),
        (Some(m), None) if m.needs_card() => {
            problems.add("payment.card", "The payment.card field is required for card payments.");
            None
        }
        _ => None,
    };
    if let Some(billing) = p.get("billing_address").and_then(Value::as_object) {
        if !boolean(Some(billing), "payment.billing_address", "same_as_student", false, problems) {
            address(billing, "payment.billing_address", problems);
        }
    }
    let method = method?;
    if method.needs_card() && card.is_none() {
        return None;
    }
    Some(Payment { amount: amount?, method, coupon_code, card })
}

/// Validates the card; the number is kept only as a `CardNumber` (last four digits out),
/// and the CVV is checked and forgotten.
fn card_details(card: &Map<String, Value>, today: Timestamp, problems: &mut Problems) -> Option<CardNumber> {
    let number =
        text(card, "payment.card", "number", true, 13, 23, problems).and_then(|n| match CardNumber::parse(&n) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.add("payment.card.number", e.0);
                None
            }
        });
    text(card, "payment.card", "holder_name", false, 1, 100, problems);
    let this_year: i64 = today.to_iso()[..4].parse().unwrap_or(2026);
    let this_month: i64 = today.to_iso()[5..7].parse().unwrap_or(1);
    let month = card.get("expiry_month").and_then(Value::as_i64).filter(|m| (1..=12).contains(m));
    if month.is_none() {
        problems.add("payment.card.expiry_month", "The payment.card.expiry_month must be between 1 and 12.");
    }
    match card.get("expiry_year").and_then(Value::as_i64) {
        Some(y) if (this_year..=this_year + 10).contains(&y) => {
            // A card is good through the end of its expiry month.
            if y == this_year && month.is_some_and(|m| m < this_month) {
                problems.add("payment.card.expiry_month", "The card has expired.");
            }
        }
        _ => problems.add(
            "payment.card.expiry_year",
            format!("The payment.card.expiry_year must be between {this_year} and {}.", this_year + 10),
        ),
    }
    // Laravel's digits_between:3,4 takes a JSON number as well as a string.
    let cvv = match card.get("cvv") {
        Some(Value::String(c)) => Some(c.clone()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    let cvv_ok = cvv.is_some_and(|c| (3..=4).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()));
    if !cvv_ok {
        problems.add("payment.card.cvv", "The payment.card.cvv must be 3 or 4 digits.");
    }
    number
}

/// What is kept with the order besides the money: notes, custom fields, the module plan,
/// request metadata. The card never goes in here.
fn details(body: &Value, problems: &mut Problems) -> Value {
    let course = body.get("course");
    let custom_fields = course.and_then(|c| c.get("custom_fields")).cloned().unwrap_or(json!([]));
    if let Some(list) = custom_fields.as_array() {
        for (i, field) in list.iter().enumerate() {
            let key_ok = field.get("key").and_then(Value::as_str).is_some_and(|k| !k.is_empty() && k.len() <= 100);
            let value_ok = field.get("value").and_then(Value::as_str).is_some_and(|v| v.len() <= 500);
            if !key_ok || !value_ok {
                problems.add(
                    &format!("course.custom_fields.{i}"),
                    "Each custom field needs a key (at most 100 characters) and a value (at most 500).",
                );
            }
        }
    } else {
        problems.add("course.custom_fields", "The course.custom_fields field must be a list.");
    }
    let enrollment = body.get("enrollment").cloned().unwrap_or(json!({}));
    for (i, module) in enrollment.get("modules").and_then(Value::as_array).into_iter().flatten().enumerate() {
        // A date, nothing more: a past unlock date means the module is open already (the
        // spec's own example sends 2024-03-01).
        match module.get("unlock_date") {
            None | Some(Value::Null) => {}
            Some(Value::String(unlock)) if date(unlock).is_some() => {}
            Some(_) => problems
                .add(&format!("enrollment.modules.{i}.unlock_date"), "The unlock_date must be a date (YYYY-MM-DD)."),
        }
    }
    let metadata = body.get("metadata").cloned().unwrap_or(Value::Null);
    if let Some(ip) = metadata.get("ip_address").and_then(Value::as_str) {
        if ip.parse::<std::net::IpAddr>().is_err() {
            problems.add("metadata.ip_address", "The metadata.ip_address must be a valid IP address.");
        }
    }
    json!({"custom_fields": custom_fields, "notes": enrollment.get("notes"), "grant_certificate": enrollment.get("grant_certificate"),
        "modules": enrollment.get("modules"), "metadata": metadata})
}

/// Laravel's TrimStrings and ConvertEmptyStringsToNull middleware, which the spec's
/// implementation runs before validation: a blank string is a field not given (form-fed
/// clients send `"coupon_code": ""`), so an optional one is absent and a required one
/// is reported as required.
fn blank_strings_to_null(value: &mut Value) {
    match value {
        Value::String(s) if s.trim().is_empty() => *value = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(blank_strings_to_null),
        Value::Object(fields) => fields.values_mut().for_each(blank_strings_to_null),
        _ => {}
    }
}

fn parse_order(mut body: Value, today: Timestamp) -> Result<Order, Error> {
    if !body.is_object() {
        return Err(Error::validation("The request body must be a JSON object."));
    }
    blank_strings_to_null(&mut body);
    let body = &body;
    let mut problems = Problems(Error::validation("Validation failed"));
    let student = student(body, today, &mut problems);
    let course_code = body
        .get("course")
        .and_then(Value::as_object)
        .and_then(|c| text(c, "course", "code", true, 1, 50, &mut problems));
    if body.get("course").and_then(Value::as_object).is_none() {
        problems.add("course.code", "The course.code field is required.");
    }
    let payment = payment(body, today, &mut problems);
    let enrollment = body.get("enrollment").and_then(Value::as_object);
    let start_immediately = boolean(enrollment, "enrollment", "start_immediately", true, &mut problems);
    let send_welcome_email = boolean(enrollment, "enrollment", "send_welcome_email", true, &mut problems);
    let details = details(body, &mut problems);
    if !problems.0.field_errors.is_empty() {
        return Err(problems.0);
    }
    Ok(Order {
        student: student.ok_or_else(|| Error::field("student", "The student field is invalid."))?,
        course_code: course_code.ok_or_else(|| Error::field("course.code", "The course.code field is required."))?,
        payment: payment.ok_or_else(|| Error::field("payment", "The payment field is invalid."))?,
        start_immediately,
        send_welcome_email,
        details,
    })
}

fn money_number(m: Money) -> Value {
    serde_json::from_str(&m.amount_string()).unwrap_or(json!(0))
}

fn post_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let started = Instant::now();
    let caller = ctx.caller()?.clone();
    // Refused before the throttle counts the call and before the body is judged.
    checkout::may_place_orders(&caller)?;
    ctx.throttle(&ctx.env.limits.checkout, &caller.key())?;
    let order = parse_order(ctx.json_body()?, ctx.now)?;
    let receipt = checkout::place_order(ctx.env, &caller, order, &ctx.env.coupons, ctx.now)?;
    let at = |t: Option<Timestamp>| t.map(|t| json!(t.to_iso())).unwrap_or(Value::Null);
    let c = &receipt.course;
    let s = &receipt.student;
    let now = json!(receipt.paid_at.to_iso());
    let body = json!({
        "success": true,
        "message": "Student enrolled successfully",
        "data": {
            "id": receipt.order_id,
            "enrollment_number": receipt.enrollment_number,
            "status": receipt.status,
            "student": {"id": s.id, "name": s.name, "email": s.email, "phone": s.profile.phone, "username": s.username},
            "course": {"id": c.id, "code": c.code, "course_key": c.key, "title": c.title, "level": c.level, "duration_hours": c.duration_hours},
            "payment": {"transaction_id": receipt.transaction_id, "amount": money_number(receipt.amount), "discount": money_number(receipt.discount),
                "amount_charged": money_number(receipt.charged),
                "currency": receipt.amount.currency().as_str(), "coupon_code": receipt.coupon_code, "status": "completed", "paid_at": now},
            "progress": {"percentage": 0, "enrolled_at": now, "started_at": at(receipt.started_at), "completed_at": null, "expires_at": at(receipt.expires_at)},
            "enrollment": {"mode": receipt.enrollment.mode, "is_active": receipt.enrollment.is_active},
            "created_at": now,
            "updated_at": now,
        },
        "meta": {"enrollment_number": receipt.enrollment_number, "transaction_id": receipt.transaction_id,
            "processing_time_ms": (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0},
    });
    Ok(json(201, &body))
}
