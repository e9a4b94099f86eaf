//! `POST /api/v1/enrollments`: the checkout surface.

use crate::helpers::TestApp;
use serde_json::{json, Value};

const COURSE: &str = "course-v1:Rollcall+WEB-301+2026";

fn next_years(n: u64) -> u64 {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    1970 + seconds / 31_556_952 + n
}

fn order() -> Value {
    json!({
        "student": {"email": "john.doe@example.com", "first_name": "John", "last_name": "Doe", "phone": "+1-555-123-4567",
            "date_of_birth": "1995-03-15",
            "address": {"street": "123 Main Street", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94102"},
            "preferences": {"language": "en", "timezone": "America/Los_Angeles", "notifications": {"email": true}}},
        "course": {"code": "WEB-301", "custom_fields": [{"key": "referral_source", "value": "linkedin_ad"}]},
        "payment": {"amount": 299.00, "currency": "USD", "method": "credit_card",
            "card": {"number": "4242424242424242", "holder_name": "John Doe", "expiry_month": 12, "expiry_year": next_years(2), "cvv": "123"},
            "billing_address": {"same_as_student": true}},
        "enrollment": {"start_immediately": true, "send_welcome_email": true, "notes": "Corporate training",
            "modules": [{"module_id": 1, "unlock_immediately": true, "lessons": [{"lesson_id": 1, "is_mandatory": true}]}]},
        "metadata": {"source": "web", "ip_address": "192.168.1.1"}
    })
}

fn setup() -> (TestApp, String) {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(
        &admin,
        COURSE,
        json!({"code": "WEB-301", "price": "299.00", "level": "advanced", "duration_hours": 40, "max_enrollments": 2,
        "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": "299.00"}]}),
    );
    (app, admin)
}

#[test]
fn one_call_creates_the_student_pays_and_enrolls() {
    let (app, admin) = setup();
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order());
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["success"], true);
    let data = &body["data"];
    let number = data["enrollment_number"].as_str().unwrap();
    assert_eq!((&number[..4], number.len()), ("ENR-", 17), "ENR-YYYY-XXXXXXXX: {number}");
    assert!(data["payment"]["transaction_id"].as_str().unwrap().starts_with("TXN-"));
    assert_eq!(data["payment"]["amount"], 299.0);
    assert_eq!(data["payment"]["status"], "completed");
    assert_eq!(data["status"], "active");
    assert_eq!(data["course"]["code"], "WEB-301");
    assert_eq!(data["student"]["email"], "john.doe@example.com");
    assert!(data["progress"]["expires_at"].is_string());
    assert!(body["meta"]["processing_time_ms"].is_number());
    let username = data["student"]["username"].as_str().unwrap();
    let enrollment = app.get(&format!("/api/enrollment/v1/enrollment/{username},{COURSE}"), Some(&admin)).json();
    assert_eq!((enrollment["is_active"].as_bool(), enrollment["mode"].as_str()), (Some(true), Some("verified")));
    // Nothing about the card but its last four digits is stored anywhere.
    let conn = app.sqlite();
    let last_four: String = conn.query_row("SELECT card_last_four FROM checkout_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(last_four, "4242");
    drop(conn);
    let db = std::fs::read(app.dir.db()).unwrap_or_default();
    let wal = std::fs::read(app.dir.0.join("rollcall.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(16).any(|w| w == b"4242424242424242"), "the card number reached the database");
    }
    let log = std::fs::read_to_string(app.dir.0.join("server.log")).unwrap();
    assert!(!log.contains("4242424242424242"), "the card number reached the log");
    let source: String =
        app.sqlite().query_row("SELECT source FROM enrollment_history ORDER BY id DESC", [], |r| r.get(0)).unwrap();
    assert_eq!(source, "checkout");
    let welcome: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM outbox WHERE message_type = 'checkout_welcome'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(welcome, 1);
}

#[test]
fn a_coupon_is_applied_to_the_list_price_by_the_server() {
    let (app, admin) = setup();
    let mut with_coupon = order();
    with_coupon["payment"]["coupon_code"] = json!("summer2024");
    let paid = checkout(&app, &admin, &with_coupon);
    assert_eq!(paid.status, 201, "{}", paid.text);
    let payment = &paid.json()["data"]["payment"];
    assert_eq!(
        (payment["amount"].clone(), payment["discount"].clone(), payment["amount_charged"].clone()),
        (json!(299.0), json!(29.9), json!(269.1))
    );
    let mut discounted = order();
    discounted["student"]["email"] = json!("second@example.com");
    discounted["payment"]["coupon_code"] = json!("SUMMER2024");
    discounted["payment"]["amount"] = json!("269.10");
    let wrong = checkout(&app, &admin, &discounted);
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert_eq!(
        wrong.json()["errors"]["payment.amount"][0],
        "Payment amount does not match the course price. Expected: 299.00 USD"
    );
    let mut unknown = order();
    unknown["student"]["email"] = json!("third@example.com");
    unknown["payment"]["coupon_code"] = json!("FREESTUFF");
    let refused = checkout(&app, &admin, &unknown);
    assert_eq!(refused.json()["errors"]["payment.coupon_code"][0], "The coupon code is not valid.", "{}", refused.text);
}

#[test]
fn the_spec_s_example_request_answers_201_with_the_discount() {
    let (app, admin) = setup();
    let mut example = include_str!("fixtures/checkout-example-request.json").to_owned();
    // The example's card expires in December 2026; past that year its expiry is moved on
    // so that the example keeps working as printed in every other byte.
    let year = next_years(0);
    if year > 2026 {
        example = example.replace("\"expiry_year\": 2026", &format!("\"expiry_year\": {year}"));
    }
    let reply = app.request(
        "POST",
        "/api/v1/enrollments",
        &[("Authorization", &admin), ("Accept", "application/json")],
        Some(("application/json", &example)),
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["data"]["payment"]["coupon_code"], "SUMMER2024");
    assert_eq!(body["data"]["payment"]["amount"], 299.0);
    assert_eq!(body["data"]["payment"]["discount"], 29.9);
    assert_eq!(body["data"]["payment"]["amount_charged"], 269.1);
    // The post-transaction steps are recorded with the enrollment.
    let jobs: i64 = app
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'job' AND message_type = 'process_course_access'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(jobs, 1);
    crate::helpers::wait_until(10, || {
        let status: String =
            app.sqlite().query_row("SELECT status FROM outbox WHERE channel = 'job'", [], |r| r.get(0)).unwrap();
        (status == "sent").then_some(())
    });
}

#[test]
fn a_student_enrolled_event_goes_to_webhooks_with_the_enrollment() {
    let (app, admin) = setup();
    let hook =
        app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": "http://127.0.0.1:9/hook"}));
    assert_eq!(hook.status, 201, "{}", hook.text);
    assert_eq!(checkout(&app, &admin, &order()).status, 201);
    let payload: String = app
        .sqlite()
        .query_row(
            "SELECT payload FROM outbox WHERE channel = 'webhook' AND message_type = 'student.enrolled'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let event: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(event["type"], "student.enrolled");
    assert_eq!(event["data"]["course_code"], "WEB-301");
    assert_eq!(event["data"]["amount_charged"], "299.00");
    let mut bad = order();
    bad["student"]["email"] = json!("john.doe@example.com");
    assert_eq!(checkout(&app, &admin, &bad).status, 422);
    let events: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM outbox WHERE message_type = 'student.enrolled'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 1, "a refused checkout emits nothing");
}

#[test]
fn every_invalid_field_is_reported_at_once_with_dotted_names_and_nothing_is_written() {
    let (app, admin) = setup();
    let mut bad = order();
    bad["student"]["email"] = json!("not-an-email");
    bad["student"]["first_name"] = json!("J");
    bad["student"]["date_of_birth"] = json!("2999-01-01");
    bad["student"]["address"] = json!({"street": "x"});
    bad["payment"]["currency"] = json!("JPY");
    bad["payment"]["method"] = json!("cash");
    bad["enrollment"]["modules"][0]["unlock_date"] = json!("2000-13-01");
    bad["metadata"]["ip_address"] = json!("not-an-ip");
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &bad);
    assert_eq!(reply.status, 422, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        (body["success"].as_bool(), body["error_code"].as_str(), body["message"].as_str()),
        (Some(false), Some("VALIDATION_ERROR"), Some("Validation failed"))
    );
    for field in [
        "student.email",
        "student.first_name",
        "student.date_of_birth",
        "student.address.city",
        "payment.currency",
        "payment.method",
        "enrollment.modules.0.unlock_date",
        "metadata.ip_address",
    ] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let mut card = order();
    card["payment"]["card"]["number"] = json!("4242424242424241");
    card["payment"]["card"]["cvv"] = json!("12");
    card["payment"]["card"]["expiry_month"] = json!(13);
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &card).json();
    for field in ["payment.card.number", "payment.card.cvv", "payment.card.expiry_month"] {
        assert!(reply["errors"][field].is_array(), "{field}: {reply}");
    }
    assert!(!reply.to_string().contains("4242424242424241"), "errors never echo the card number");
    let mut unknown = order();
    unknown["course"]["code"] = json!("NOPE-1");
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &unknown);
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["errors"]["course.code"][0],
        "The specified course code does not exist or is not available."
    );
    let users: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(users, 1, "only the admin exists");
    assert_eq!(
        app.request("POST", "/api/v1/enrollments", &[("Authorization", &admin)], Some(("application/json", "{")))
            .status,
        400
    );
}

#[test]
fn a_duplicate_student_or_a_full_course_rolls_everything_back() {
    let (app, admin) = setup();
    assert_eq!(app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order()).status, 201);
    let again = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order());
    assert_eq!(again.status, 422);
    assert_eq!(
        again.json()["errors"]["student.email"][0],
        "A student with this email address already exists in the system."
    );
    let mut second = order();
    second["student"]["email"] = json!("jane@example.com");
    assert_eq!(app.send_json("POST", "/api/v1/enrollments", Some(&admin), &second).status, 201);
    let mut third = order();
    third["student"]["email"] = json!("late@example.com");
    let full = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &third);
    assert_eq!(full.status, 422);
    assert_eq!(full.json()["errors"]["course.code"][0], "This course has reached maximum enrollment capacity.");
    let late: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM users WHERE email = 'late@example.com'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(late, 0, "the student created before the capacity check was rolled back");
    let orders: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM checkout_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(orders, 2);
}

#[test]
fn learners_are_refused_and_the_endpoint_is_rate_limited() {
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_CHECKOUT_PER_MINUTE", "2")], &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"code": "WEB-301", "price": "299.00"}));
    let learner = app.user_auth(&admin, "learner", false);
    let refused = app.send_json("POST", "/api/v1/enrollments", Some(&learner), &order());
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["success"], false);
    assert_eq!(app.send_json("POST", "/api/v1/enrollments", None, &order()).status, 401);
    for i in 0..2 {
        let mut o = order();
        o["student"]["email"] = json!(format!("s{i}@example.com"));
        assert_eq!(app.send_json("POST", "/api/v1/enrollments", Some(&admin), &o).status, 201);
    }
    let limited = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order());
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error_code"], "RATE_LIMITED");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let reset: u64 = limited.header("X-RateLimit-Reset").expect("X-RateLimit-Reset on a 429").parse().unwrap();
    let retry: u64 = limited.header("Retry-After").unwrap().parse().unwrap();
    assert!(reset >= now && reset <= now + retry + 2, "reset {reset}, now {now}, retry {retry}");
    assert_eq!(limited.header("X-RateLimit-Limit"), Some("2"));
    assert_eq!(limited.header("X-RateLimit-Remaining"), Some("0"));
}

fn checkout(app: &TestApp, admin: &str, body: &Value) -> crate::helpers::Reply {
    app.send_json("POST", "/api/v1/enrollments", Some(admin), body)
}

fn free_order(code: &str, email: &str) -> Value {
    let mut o = order();
    o["course"]["code"] = json!(code);
    o["student"]["email"] = json!(email);
    o["payment"] = json!({"amount": 0, "currency": "USD", "method": "paypal"});
    o
}

#[test]
fn a_free_checkout_never_buys_a_paid_mode() {
    let (app, admin) = setup();
    app.create_course(
        &admin,
        "course-v1:Rollcall+FREE+2026",
        json!({"code": "FREE-1", "price": "0.00", "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": "49.00"}]}),
    );
    let reply = checkout(&app, &admin, &free_order("FREE-1", "free@example.com"));
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["data"]["enrollment"]["mode"], "audit", "a $0 payment buys the free mode");
    app.create_course(
        &admin,
        "course-v1:Rollcall+PAIDONLY+2026",
        json!({"code": "PAID-ONLY", "price": "0.00", "modes": [{"slug": "verified", "min_price": "49.00"}]}),
    );
    let refused = checkout(&app, &admin, &free_order("PAID-ONLY", "paid@example.com"));
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.json()["errors"]["payment.amount"][0],
        "Payment amount does not match the course price. Expected: 49.00 USD"
    );
    let students: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM users WHERE email = 'paid@example.com'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(students, 0, "nothing was written");
}

#[test]
fn an_invitation_only_course_is_not_available_without_a_pre_enrollment() {
    let (app, admin) = setup();
    app.create_course(
        &admin,
        "course-v1:Rollcall+INV+2026",
        json!({"code": "INV-1", "price": "0.00", "invitation_only": true}),
    );
    let refused = checkout(&app, &admin, &free_order("INV-1", "stranger@example.com"));
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.json()["errors"]["course.code"][0],
        "The specified course code does not exist or is not available."
    );
    let invited = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&admin),
        &json!({"email": "guest@example.com", "course_id": "course-v1:Rollcall+INV+2026"}),
    );
    assert_eq!(invited.status, 201, "{}", invited.text);
    let bought = checkout(&app, &admin, &free_order("INV-1", "guest@example.com"));
    assert_eq!(bought.status, 201, "a pre-enrolled email may buy its place: {}", bought.text);
}

#[test]
fn a_date_of_birth_of_today_is_not_before_today() {
    let (app, admin) = setup();
    let today = {
        let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}")
    };
    let mut o = order();
    o["student"]["date_of_birth"] = json!(today);
    let reply = checkout(&app, &admin, &o);
    assert_eq!(reply.status, 422, "{today}: {}", reply.text);
    assert!(reply.json()["errors"]["student.date_of_birth"].is_array());
}

#[test]
fn empty_optional_strings_are_absent_as_laravel_makes_them() {
    let (app, admin) = setup();
    let mut o = order();
    o["payment"]["coupon_code"] = json!("");
    o["student"]["phone"] = json!("");
    o["student"]["date_of_birth"] = json!(" ");
    o["student"]["preferences"]["language"] = json!("");
    let reply = checkout(&app, &admin, &o);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["data"]["payment"]["discount"], 0.0, "an empty coupon is no coupon");
    let mut missing = order();
    missing["student"]["first_name"] = json!("");
    let refused = checkout(&app, &admin, &missing);
    assert_eq!(refused.json()["errors"]["student.first_name"][0], "The student.first_name field is required.");
}

#[test]
fn an_email_of_exactly_255_characters_is_accepted() {
    let (app, admin) = setup();
    // 64 + 1 + (63 + 1 + 63 + 1 + 58 + 4): the longest local part and DNS labels of at most 63.
    let email = format!("{}@{}.{}.{}.com", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(58));
    assert_eq!(email.len(), 255, "{email}");
    let mut o = order();
    o["student"]["email"] = json!(email);
    let reply = checkout(&app, &admin, &o);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let mut longer = order();
    longer["student"]["email"] = json!(email.replacen('@', "@e", 1));
    assert_eq!(checkout(&app, &admin, &longer).status, 422);
}

/// Sets a dotted path (`student.address.city`, `enrollment.modules.1.unlock_date`).
fn set(body: &mut Value, path: &str, value: Value) {
    let mut at = body;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        at = match part.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*part],
        };
    }
    let last = parts[parts.len() - 1];
    match (value.is_null(), at.as_object_mut()) {
        (true, Some(object)) => {
            object.remove(last);
        }
        _ => at[last] = value,
    }
}

#[test]
fn each_validation_rule_of_the_spec_holds_at_its_boundaries() {
    let (app, admin) = setup();
    app.create_course(&admin, "course-v1:Rollcall+WIDE+2026", json!({"code": "WIDE-1", "price": "299.00"}));
    let year = next_years(0);
    let s = |n: usize| "s".repeat(n);
    // (path, value — null removes the field, expected: None = 201, Some(field) = 422 on it)
    let rules: Vec<(&str, Value, Option<&str>)> = vec![
        ("student.email", json!(null), Some("student.email")),
        ("student.email", json!("no-at-sign.example.com"), Some("student.email")),
        ("student.email", json!(format!("{}@{}.com", "a".repeat(64), "b".repeat(187))), Some("student.email")),
        ("student.first_name", json!("Jo"), None),
        ("student.first_name", json!("J"), Some("student.first_name")),
        ("student.first_name", json!(s(100)), None),
        ("student.first_name", json!(s(101)), Some("student.first_name")),
        ("student.last_name", json!("Li"), None),
        ("student.last_name", json!("L"), Some("student.last_name")),
        ("student.last_name", json!(s(101)), Some("student.last_name")),
        ("student.phone", json!("+44 20 7946 0958"), None),
        ("student.phone", json!("12"), Some("student.phone")),
        ("student.phone", json!("call me"), Some("student.phone")),
        ("student.date_of_birth", json!("1900-01-02"), None),
        ("student.date_of_birth", json!("1900-01-01"), Some("student.date_of_birth")),
        ("student.date_of_birth", json!("2000-02-30"), Some("student.date_of_birth")),
        ("student.date_of_birth", json!("15/03/1995"), Some("student.date_of_birth")),
        ("student.address.street", json!(null), Some("student.address.street")),
        ("student.address.city", json!(null), Some("student.address.city")),
        ("student.address.country", json!("us"), None),
        ("student.address.country", json!("USA"), Some("student.address.country")),
        ("student.address.postal_code", json!(s(20)), None),
        ("student.address.postal_code", json!(s(21)), Some("student.address.postal_code")),
        ("student.address", json!(null), None),
        ("student.preferences.language", json!("fr"), None),
        ("student.preferences.language", json!("xx"), Some("student.preferences.language")),
        ("course.code", json!(null), Some("course.code")),
        ("course.code", json!("NOPE-1"), Some("course.code")),
        ("course.code", json!("WEB-301"), None),
        ("course.custom_fields.0.key", json!(s(101)), Some("course.custom_fields.0")),
        ("payment.amount", json!(299), None),
        ("payment.amount", json!("299.00"), None),
        ("payment.amount", json!(-1), Some("payment.amount")),
        ("payment.amount", json!(1000000), Some("payment.amount")),
        ("payment.amount", json!("299.001"), Some("payment.amount")),
        ("payment.amount", json!(999999.99), Some("payment.amount")),
        ("payment.currency", json!("JPY"), Some("payment.currency")),
        ("payment.currency", json!("EUR"), Some("payment.amount")),
        ("payment.method", json!("cash"), Some("payment.method")),
        ("payment.method", json!("bank_transfer"), None),
        ("payment.card", json!(null), Some("payment.card")),
        ("payment.card.number", json!("4222222222222"), None),
        ("payment.card.number", json!("4242424242424242428"), None),
        ("payment.card.number", json!("424242424242"), Some("payment.card.number")),
        ("payment.card.number", json!("42424242424242424242"), Some("payment.card.number")),
        ("payment.card.number", json!("4242424242424241"), Some("payment.card.number")),
        ("payment.card.holder_name", json!(s(100)), None),
        ("payment.card.holder_name", json!(s(101)), Some("payment.card.holder_name")),
        ("payment.card.expiry_month", json!(0), Some("payment.card.expiry_month")),
        ("payment.card.expiry_month", json!(13), Some("payment.card.expiry_month")),
        ("payment.card.expiry_year", json!(year - 1), Some("payment.card.expiry_year")),
        ("payment.card.expiry_year", json!(year + 10), None),
        ("payment.card.expiry_year", json!(year + 11), Some("payment.card.expiry_year")),
        ("payment.card.cvv", json!("12"), Some("payment.card.cvv")),
        ("payment.card.cvv", json!("1234"), None),
        ("payment.card.cvv", json!(321), None),
        ("payment.card.cvv", json!("12a"), Some("payment.card.cvv")),
        (
            "payment.billing_address",
            json!({"same_as_student": false, "city": "Paris", "country": "FR", "postal_code": "75001"}),
            Some("payment.billing_address.street"),
        ),
        ("payment.billing_address", json!({"same_as_student": true}), None),
        ("enrollment.modules.0.unlock_date", json!("2024-03-01"), None),
        ("enrollment.modules.0.unlock_date", json!("March first"), Some("enrollment.modules.0.unlock_date")),
        ("metadata.ip_address", json!("::1"), None),
        ("metadata.ip_address", json!("999.1.1.1"), Some("metadata.ip_address")),
    ];
    for (i, (path, value, expected)) in rules.into_iter().enumerate() {
        let mut body = order();
        body["student"]["email"] = json!(format!("rule{i}@example.com"));
        // The setup course takes two learners; this one has room for every rule.
        body["course"]["code"] = json!("WIDE-1");
        set(&mut body, path, value.clone());
        let reply = checkout(&app, &admin, &body);
        match expected {
            None => assert_eq!(reply.status, 201, "{path} = {value}: {}", reply.text),
            Some(field) => {
                assert_eq!(reply.status, 422, "{path} = {value}: {}", reply.text);
                assert!(
                    reply.json()["errors"][field].is_array(),
                    "{path} = {value}: wanted an error on {field}: {}",
                    reply.text
                );
            }
        }
    }
}

#[test]
fn a_refused_write_answers_503_in_the_checkout_format_and_charges_nothing() {
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"code": "WEB-301", "price": "299.00"}));
    let refused = app.refuse_writes();
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order());
    crate::helpers::assert_refused(&reply, "error_code");
    assert_eq!(reply.json()["success"], false);
    drop(refused);
    let conn = app.sqlite();
    let students: i64 =
        conn.query_row("SELECT COUNT(*) FROM users WHERE email = 'john.doe@example.com'", [], |r| r.get(0)).unwrap();
    assert_eq!(students, 0, "nothing was written");
}
