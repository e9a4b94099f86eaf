//! The schemas of the OpenAPI document: the bodies' literals, the lifecycle schemas, the
//! constraints (patterns, lengths) that come from the domain types, and the form views.

use super::*;

/// The enrollment lifecycle's fields and bodies (README "Enrollment lifecycle"): course
/// settings, enrollment status and dates, the waitlist.
fn add_lifecycle_schemas(schemas: &mut Value) {
    let s = |t: &str| json!({"type": t});
    let ns = |t: &str| json!({"type": [t, "null"]});
    let date = json!({"type": ["string", "null"], "format": "date-time"});
    let status = json!({"type": "string", "enum": ["active", "suspended", "expired", "inactive"]});
    let settings = json!({
        "access_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 36500},
        "expiry_action": {"type": "string", "enum": ["keep", "suspend", "unenroll"]},
        "expiry_notice_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650},
        "waitlist": s("boolean"),
        "waitlist_limit": {"type": ["integer", "null"], "minimum": 0},
        "suspended_holds_seat": s("boolean"),
    });
    for schema in ["AdminCourseInput", "AdminCourse"] {
        if let (Some(props), Some(add)) = (schemas[schema]["properties"].as_object_mut(), settings.as_object()) {
            props.extend(add.clone());
        }
    }
    let optional = json!({"status": {"oneOf": [status.clone(), {"type": "null"}]}, "access_start": date, "access_end": date,
        "waitlist_position": ns("integer")});
    if let (Some(props), Some(add)) = (schemas["V2Enrollment"]["properties"].as_object_mut(), optional.as_object()) {
        props.extend(add.clone());
    }
    for (schema, field, value) in [
        ("V2EnrollmentState", "waitlisted", s("boolean")),
        ("V2EnrollmentState", "waitlist_position", s("integer")),
        ("V2EnrollRequest", "access_start", date.clone()),
        ("V2EnrollRequest", "access_end", date.clone()),
        ("V1EnrollmentRequest", "waitlist", s("boolean")),
    ] {
        schemas[schema]["properties"][field] = value;
    }
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let entry = json!({"type": "object", "required": ["username", "position"], "properties": {"username": s("string"), "email": s("string"),
        "position": s("integer"), "mode": s("string"), "access_start": date, "access_end": date, "created": date}});
    let more = json!({
        "EnrollmentLifecyclePatch": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "status": status, "access_start": date, "access_end": date}},
        "EnrollmentLifecycle": {"type": "object", "required": ["username", "course_key", "is_active", "status"], "properties": {
            "username": s("string"), "course_key": s("string"), "mode": s("string"), "is_active": s("boolean"), "status": status,
            "access_start": date, "access_end": date}},
        "WaitlistEntry": entry,
        "Waitlist": {"type": "object", "required": ["course_key", "count", "results"], "properties": {"course_key": s("string"),
            "count": s("integer"), "results": {"type": "array", "items": r("WaitlistEntry")}}},
        "WaitlistAdd": {"type": "object", "required": ["username"], "additionalProperties": false, "properties": {"username": s("string")}},
        "WaitlistAdded": {"type": "object", "properties": {"username": s("string"), "waitlist_position": ns("integer"), "enrolled": s("boolean")}},
        "WaitlistMove": {"type": "object", "required": ["position"], "additionalProperties": false, "properties": {"position": {"type": "integer", "minimum": 1}}},
        "V1WaitlistPlace": {"type": "object", "required": ["user", "course_id", "waitlist_position"], "properties": {"user": s("string"),
            "course_id": s("string"), "waitlist_position": s("integer")}},
    });
    if let (Some(all), Some(add)) = (schemas.as_object_mut(), more.as_object()) {
        all.extend(add.clone());
    }
}

pub(super) fn schemas() -> Value {
    let mut all = described_schemas();
    for (name, schema) in crate::api::scim::openapi_schemas().as_object().into_iter().flatten() {
        all[name] = schema.clone();
    }
    constrain(&mut all);
    require_what_is_always_sent(&mut all);
    all
}

/// Answers whose every field is always sent (a null when it has no value): each field is
/// required, so a generated client types none of them as optional. The schemathesis check
/// (tests/api/docs.rs) holds the server to it.
const ALWAYS_SENT: [&str; 30] = [
    "AdminCourse",
    "AdminLearningPathList",
    "AdminUser",
    "AppsemblerBulkResult",
    "AppsemblerCodes",
    "CourseModeList",
    "CourseStaffList",
    "Health",
    "InstructorModifyResult",
    "LearningPathBulkCounts",
    "LearningPathEnrollment",
    "LearningPathStep",
    "LoginResponse",
    "OAuthClient",
    "OAuthClientCreated",
    "OAuthClientList",
    "OutboxMessage",
    "OutboxPage",
    "PublicCourse",
    "PublicCoursePage",
    "V1CourseDetails",
    "V1EnrollmentAllowed",
    "V1EnrollmentCursorPage",
    "V1Mode",
    "V1Roles",
    "V2OperationResult",
    "Webhook",
    "WebhookCreated",
    "WebhookList",
    "Me",
];

fn require_what_is_always_sent(schemas: &mut Value) {
    for name in ALWAYS_SENT {
        let fields: Vec<String> =
            schemas[name]["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
        schemas[name]["required"] = json!(fields);
    }
    // The detail view adds subtitle, description, level, duration, time_commitment and skills.
    schemas["LearningPath"]["required"] = json!([
        "key",
        "uuid",
        "display_name",
        "image",
        "sequential",
        "steps",
        "required_completion",
        "enrollment_date",
        "invite_only"
    ]);
}

/// A request schema as a form or multipart body can carry it: every field is text (a
/// boolean is DRF's words for it, a number its digits) and nested objects or lists cannot
/// be sent, so they are left out.
pub(super) fn form_view(schema: &Value) -> Value {
    fn scalar(p: &Value) -> Option<Value> {
        for branch in ["oneOf", "anyOf"] {
            if let Some(options) = p.get(branch).and_then(Value::as_array) {
                return options.iter().find(|o| o["type"] == "string").or_else(|| options.first()).and_then(scalar);
            }
        }
        let types: Vec<&str> = match &p["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec!["string"],
        };
        if types.contains(&"string") {
            let mut text = p.clone();
            text["type"] = json!("string");
            if let Some(choices) = text.get("enum").and_then(Value::as_array).cloned() {
                text["enum"] = json!(choices
                    .iter()
                    .map(|c| c.as_str().map(str::to_owned).unwrap_or_else(|| c.to_string()))
                    .collect::<Vec<_>>());
            }
            return Some(text);
        }
        match types.first().copied() {
            // DRF also reads True/False/1/0; one spelling each keeps generated enums distinct.
            Some("boolean") => Some(json!({"type": "string", "enum": ["true", "false"]})),
            Some("integer") => Some(json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
            Some("number") => Some(json!({"type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$"})),
            _ => None,
        }
    }
    let mut form = json!({"type": "object", "properties": {}});
    let mut kept = Vec::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(text) = scalar(property) {
            form["properties"][name] = text;
            kept.push(name.clone());
        }
    }
    let required: Vec<&Value> =
        schema["required"].as_array().into_iter().flatten().filter(|r| kept.iter().any(|k| r == &k)).collect();
    if !required.is_empty() {
        form["required"] = json!(required);
    }
    if schema.get("additionalProperties").is_some() {
        form["additionalProperties"] = schema["additionalProperties"].clone();
    }
    form
}

/// What each request field must be, as its handler parses it, put into the schemas: the
/// document then calls valid only what is accepted (checked by schemathesis'
/// positive-data-acceptance, `tests/api/docs.rs`). Rules a schema cannot state (a course
/// that must exist, a date before today, a Luhn check) are listed in schemathesis.toml.
fn constrain(schemas: &mut Value) {
    let pattern = |p: &str, max: u64| json!({"type": "string", "pattern": p, "maxLength": max});
    let key = pattern(COURSE_KEY_PATTERN, 255);
    let path_key = pattern(PATH_KEY_PATTERN, 255);
    let username = pattern(USERNAME_PATTERN, 150);
    let email = pattern(EMAIL_PATTERN, 254);
    // Text that is not blank (handlers trim, then refuse an empty value).
    // Text with something in it besides white space (handlers trim, then refuse blanks).
    let text = |min: u64, max: u64| json!({"type": "string", "pattern": "\\S", "minLength": min, "maxLength": max});
    let nonempty = |max: u64| json!({"type": "string", "minLength": 1, "maxLength": max});
    // Stored free text (domain::text): its kind's length, no control character but tab and
    // line breaks; `named` must also have something besides white space.
    let free = |max: usize| json!({"type": "string", "maxLength": max, "pattern": TEXT_PATTERN});
    let free_or_null = |max: usize| json!({"type": ["string", "null"], "maxLength": max, "pattern": TEXT_PATTERN});
    let named = |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max, "allOf": [{"pattern": "\\S"}, {"pattern": TEXT_PATTERN}]});
    let drf_text = json!({"type": ["string", "number", "null"]});
    let date = json!({"type": "string", "format": "date"});
    let when = json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
    let or_empty = |schema: &Value| json!({"anyOf": [{"type": "string", "maxLength": 0}, schema]});
    let key_body = &COURSE_KEY_PATTERN[1..COURSE_KEY_PATTERN.len() - 1];
    let keys = format!("^[,\\s]*{key_body}([,\\s]+{key_body})*[,\\s]*$");
    let country = pattern("^[A-Za-z]{2}$", 2);
    let address = json!({"type": "object", "required": ["street", "city", "country", "postal_code"], "properties": {
        "street": text(1, 255), "city": text(1, 100), "state": {"type": "string"}, "country": country, "postal_code": text(1, 20)}});
    let rules: Vec<(&str, &str, Value)> = vec![
        ("TokenRequest", "client_id", nonempty(255)),
        ("TokenRequest", "client_secret", nonempty(255)),
        ("RevokeRequest", "token", nonempty(4096)),
        ("LoginRequest", "username", nonempty(255)),
        ("LoginRequest", "password", nonempty(1024)),
        ("SetPasswordRequest", "password", json!({"type": "string", "minLength": 8, "maxLength": 1024})),
        ("SetPasswordRequest", "token", nonempty(1024)),
        ("ConfirmEmailRequest", "token", nonempty(1024)),
        ("CourseStaffInput", "username", username.clone()),
        ("OAuthClientInput", "name", named(Title::MAX_CHARS)),
        ("OAuthClientInput", "user", username.clone()),
        ("AdminUserInput", "username", username.clone()),
        ("AdminUserInput", "email", email.clone()),
        ("AdminUserInput", "password", json!({"type": "string", "writeOnly": true, "minLength": 8, "maxLength": 1024})),
        ("AdminUserInput", "name", free(Title::MAX_CHARS)),
        ("AdminUserInput", "first_name", free(Title::MAX_CHARS)),
        ("AdminUserInput", "last_name", free(Title::MAX_CHARS)),
        ("AdminCourseInput", "course_key", key.clone()),
        ("AdminCourseInput", "start", when.clone()),
        ("AdminCourseInput", "end", when.clone()),
        ("AdminCourseInput", "enrollment_start", when.clone()),
        ("AdminCourseInput", "enrollment_end", when.clone()),
        ("AdminCourseInput", "code", json!({"type": ["string", "null"], "pattern": CourseCode::PATTERN, "maxLength": CourseCode::MAX_CHARS})),
        ("AdminCourseInput", "level", free_or_null(Label::MAX_CHARS)),
        ("AdminCourseInput", "title", named(Title::MAX_CHARS)),
        ("AdminCourseInput", "currency", pattern("^[A-Za-z]{3}$", 3)),
        ("AdminCourseInput", "duration_hours", json!({"type": ["integer", "null"], "minimum": 0, "maximum": 100000})),
        ("AdminCourseInput", "max_enrollments", json!({"type": ["integer", "null"], "minimum": 0, "maximum": 10000000})),
        ("CourseMode", "slug", json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"})),
        ("CourseMode", "expiration_datetime", when.clone()),
        ("CourseMode", "name", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "description", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "sku", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "currency", pattern("^[A-Za-z]{3}$", 3)),
        ("AdminLearningPathInput", "key", path_key.clone()),
        ("AdminLearningPathInput", "display_name", named(Title::MAX_CHARS)),
        ("AdminLearningPathInput", "subtitle", free_or_null(Title::MAX_CHARS)),
        ("AdminLearningPathInput", "description", free_or_null(Description::MAX_CHARS)),
        ("AdminLearningPathInput", "duration", free_or_null(Label::MAX_CHARS)),
        ("AdminLearningPathInput", "time_commitment", free_or_null(Label::MAX_CHARS)),
        ("AdminLearningPathInput", "steps", json!({"type": "array", "items": {"type": "object", "required": ["course_key"], "additionalProperties": false,
            "properties": {"course_key": key.clone(), "weight": {"type": "number", "minimum": 0, "maximum": 1}}}})),
        ("WebhookInput", "url", pattern("^https?://[A-Za-z0-9.-]+(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][^\\s\\u0000-\\u001F\\u007F-\\u009F]*)?$", URL_MAX_CHARS as u64)),
        ("V1EnrollmentRequest", "user", username.clone()),
        ("V1EnrollmentRequest", "email", email.clone()),
        ("V1EnrollmentRequest", "mode", pattern("^[A-Za-z0-9_-]{1,100}$", 100)),
        ("V1EnrollmentRequest", "course_details.course_id", key.clone()),
        ("V1EnrollmentAllowedRequest", "email", email.clone()),
        ("V1EnrollmentAllowedRequest", "course_id", key.clone()),
        ("V1UnenrollRequest", "username", username.clone()),
        // An unknown mode is each row's error, not the request's.
        ("V2EnrollRequest", "mode", json!({"type": ["string", "null"]})),
        ("V2EnrollRequest", "identifiers", json!({"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "\\S", "maxLength": 255}})),
        ("InstructorModifyRequest", "identifier", json!({"oneOf": [
            {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "\\S", "maxLength": 255}},
            {"type": "string", "pattern": "[^,\\s]", "description": "a form's one field: identifiers separated by commas or whitespace"}]})),
        ("InstructorModifyRequest", "reason", json!({"type": ["string", "null"]})),
        ("LearningPathBulkRequest", "learning_paths", json!({"type": ["string", "number"], "description": "comma-separated keys"})),
        ("LearningPathBulkRequest", "emails", json!({"type": ["string", "number"], "description": "comma-separated"})),
        ("LearningPathBulkRequest", "reason", drf_text.clone()),
        ("LearningPathBulkRequest", "org", drf_text.clone()),
        ("LearningPathBulkRequest", "role", drf_text.clone()),
        ("LearningPathEnrollRequest", "username", username.clone()),
        ("LearningPathUsername", "username", json!({"type": ["string", "null"], "pattern": USERNAME_PATTERN})),
        ("AppsemblerCreateAccount", "username", username.clone()),
        ("AppsemblerCreateAccount", "email", email.clone()),
        ("AppsemblerCreateAccount", "password", nonempty(1024)),
        ("AppsemblerCreateAccount", "name", text(1, 255)),
        ("AppsemblerCreateAccount", "send_activation_email", json!({"type": ["string", "boolean"]})),
        ("AppsemblerUserWithoutPassword", "email", email.clone()),
        ("AppsemblerUserWithoutPassword", "name", text(1, 255)),
        ("AppsemblerUserWithoutPassword", "country", pattern("^[A-Za-z]{2}$", 2)),
        ("AppsemblerUserWithoutPassword", "gender", json!({"type": "string", "enum": ["m", "f", "o"]})),
        ("AppsemblerUserWithoutPassword", "level_of_education", json!({"type": "string", "enum": crate::core::accounts::EDUCATION_LEVELS})),
        ("AppsemblerUserWithoutPassword", "year_of_birth", pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$", 4)),
        ("AppsemblerConnect", "username", username.clone()),
        // Empty means "leave as it is".
        ("AppsemblerConnect", "email", or_empty(&email)),
        ("AppsemblerConnect", "password", json!({"type": "string", "maxLength": 1024})),
        ("AppsemblerConnect", "name", json!({"type": "string", "maxLength": 255})),
        ("AppsemblerUpdateUser", "user_lookup", nonempty(255)),
        ("AppsemblerUpdateUser", "email", email.clone()),
        ("AppsemblerUpdateUser", "country", pattern("^[A-Za-z]{2}$", 2)),
        ("AppsemblerUpdateUser", "gender", json!({"type": "string", "enum": ["m", "f", "o"]})),
        ("AppsemblerUpdateUser", "level_of_education", json!({"type": "string", "enum": crate::core::accounts::EDUCATION_LEVELS})),
        ("AppsemblerUpdateUser", "year_of_birth", pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$", 4)),
        ("AppsemblerGenerateCodes", "course_id", key.clone()),
        ("AppsemblerGenerateCodes", "total_registration_codes", json!({"oneOf": [{"type": "integer", "minimum": 0, "maximum": 1000}, {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]+)?$"}]})),
        ("AppsemblerRedeemCode", "email", email.clone()),
        ("AppsemblerRedeemCode", "enrollment_code", nonempty(32)),
        ("AppsemblerCodeStatus", "enrollment_code", nonempty(32)),
        ("AppsemblerBulkEnroll", "identifiers", json!({"type": "string", "pattern": "\\S"})),
        ("AppsemblerBulkEnroll", "courses", json!({"type": "string", "pattern": keys})),
        ("AppsemblerBulkEnroll", "auto_enroll", json!({"type": "boolean"})),
        ("AppsemblerBulkEnroll", "email_students", json!({"type": "boolean"})),
        ("CheckoutRequest", "student.email", email.clone()),
        ("CheckoutRequest", "student.first_name", text(2, 100)),
        ("CheckoutRequest", "student.last_name", text(2, 100)),
        ("CheckoutRequest", "student.phone", pattern("^\\+?[0-9]([0-9 ().-]{5,20})[0-9]$", 30)),
        ("CheckoutRequest", "student.date_of_birth", date.clone()),
        ("CheckoutRequest", "student.address", address.clone()),
        ("CheckoutRequest", "student.preferences", json!({"type": "object", "properties": {"language": {"type": "string", "enum": ["en", "es", "fr", "de", "pt"]}}})),
        // same_as_student true, or the address (the 422 names what is missing).
        ("CheckoutRequest", "payment.billing_address", json!({"type": "object", "description": "{\"same_as_student\": true}, or street, city, country and postal_code",
            "properties": {"same_as_student": {"type": "boolean"}, "street": text(1, 255), "city": text(1, 100), "country": pattern("^[A-Za-z]{2}$", 2), "postal_code": text(1, 20)}})),
        ("CheckoutRequest", "metadata", json!({"type": "object", "properties": {"ip_address": {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}}})),
        ("CheckoutRequest", "course.custom_fields", json!({"type": "array", "items": {"type": "object", "required": ["key", "value"],
            "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 100}, "value": {"type": "string", "maxLength": 500}}}})),
        ("CheckoutRequest", "enrollment.modules", json!({"type": "array", "items": {"type": "object", "properties": {"unlock_date": {"type": ["string", "null"], "format": "date"}}}})),
        ("CheckoutRequest", "course.code", text(1, 50)),
        ("CheckoutRequest", "payment.amount", json!({"oneOf": [{"type": "number", "minimum": 0, "maximum": 999999.99, "multipleOf": 0.01}, {"type": "string", "pattern": "^[0-9]{1,6}(\\.[0-9]{1,2})?$"}]})),
        ("CheckoutRequest", "payment.coupon_code", text(1, 50)),
        ("CheckoutRequest", "payment.card.number", pattern("^[0-9]{13,19}$", 19)),
        ("CheckoutRequest", "payment.card.holder_name", text(1, 100)),
        ("CheckoutRequest", "payment.card.expiry_month", json!({"type": "integer", "minimum": 1, "maximum": 12})),
        ("CheckoutRequest", "payment.card.expiry_year", json!({"type": "integer", "minimum": 2026, "maximum": 2036})),
        ("CheckoutRequest", "payment.card.cvv", pattern("^[0-9]{3,4}$", 4)),
    ];
    for (schema, path, constraint) in rules {
        let mut at = &mut schemas[schema];
        for part in path.split('.') {
            at = &mut at["properties"][part];
        }
        *at = constraint;
    }
    // Response-only fields are not input.
    for field in ["id", "date_joined", "last_login"] {
        schemas["AdminUserInput"]["properties"].as_object_mut().map(|p| p.remove(field));
    }
    // The JSON-only dialects refuse fields they do not know.
    for schema in [
        "AdminUserInput",
        "WebhookInput",
        "V2EnrollRequest",
        "CourseStaffInput",
        "OAuthClientInput",
        "AdminLearningPathInput",
    ] {
        schemas[schema]["additionalProperties"] = json!(false);
    }
    add_lifecycle_schemas(schemas);
    // A PATCH names what changes; the key never does.
    let mut course_patch = schemas["AdminCourseInput"].clone();
    course_patch["properties"].as_object_mut().map(|p| p.remove("course_key"));
    course_patch.as_object_mut().map(|p| p.remove("required"));
    schemas["AdminCoursePatch"] = course_patch;
    let mut removal = schemas["CourseStaffInput"].clone();
    removal["required"] = json!(["username"]);
    schemas["CourseStaffRemoval"] = removal;
    schemas["CourseStaffInput"]["required"] = json!(["username", "role"]);
    // A PATCH names what changes; the username never does.
    let mut patch = schemas["AdminUserInput"].clone();
    patch["properties"].as_object_mut().map(|p| p.remove("username"));
    patch.as_object_mut().map(|p| p.remove("required"));
    schemas["AdminUserPatch"] = patch;
    // A card is required for card payments.
    schemas["CheckoutRequest"]["properties"]["payment"]["if"] =
        json!({"properties": {"method": {"enum": ["credit_card", "debit_card"]}}});
    schemas["CheckoutRequest"]["properties"]["payment"]["then"] = json!({"required": ["card"]});
    schemas["CheckoutRequest"]["properties"]["payment"]["properties"]["card"]["required"] =
        json!(["number", "expiry_month", "expiry_year", "cvv"]);
}

fn described_schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let ns = |t: &str| json!({"type": [t, "null"]});
    let date = json!({"type": ["string", "null"], "format": "date-time"});
    let money = json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "examples": ["299.00"]});
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let page = |item: &str| {
        json!({"type": "object", "required": ["count", "num_pages", "results"], "properties": {
        "count": s("integer"), "num_pages": s("integer"), "current_page": s("integer"), "start": s("integer"),
        "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r(item)}}})
    };
    let mode = json!({"type": "object", "required": ["slug"], "properties": {
        "slug": s("string"), "name": s("string"), "min_price": money, "currency": s("string"),
        "expiration_datetime": date, "description": ns("string"), "sku": ns("string")}});
    let course_props = json!({
        "course_key": {"type": "string", "examples": ["course-v1:Org+Course+Run"]}, "code": ns("string"), "title": s("string"),
        "level": ns("string"), "duration_hours": ns("integer"), "price": money, "currency": s("string"),
        "start": date, "end": date, "enrollment_start": date, "enrollment_end": date,
        "invitation_only": s("boolean"), "max_enrollments": ns("integer"), "self_paced": s("boolean"), "published": s("boolean"),
        "modes": {"type": "array", "items": r("CourseMode")}});
    let mut course = json!({"type": "object", "properties": course_props.clone()});
    course["properties"]["created"] = date.clone();
    course["properties"]["updated"] = date.clone();
    let user_props = json!({"id": s("integer"), "username": s("string"), "email": s("string"), "name": s("string"),
        "first_name": s("string"), "last_name": s("string"), "is_staff": s("boolean"), "is_superuser": s("boolean"),
        "is_active": s("boolean"), "date_joined": date, "last_login": date});
    let mut user_input = json!({"type": "object", "required": ["username", "email"], "properties": user_props.clone()});
    user_input["properties"]["password"] = json!({"type": "string", "writeOnly": true, "minLength": 8});
    let client = json!({"type": "object", "properties": {"client_id": s("string"), "name": s("string"), "user": s("string"), "public": s("boolean"), "created": date}});
    let mut client_created = client.clone();
    client_created["properties"]["client_secret"] =
        json!({"type": ["string", "null"], "description": "Shown once; null for a public client"});
    json!({
        "V2Error": {"type": "object", "required": ["error_code", "developer_message", "user_message", "status_code"], "properties": {
            "error_code": s("string"), "developer_message": s("string"), "user_message": s("string"), "status_code": s("integer"),
            "detail": {"type": "string", "description": "401s only: DRF clients read it"},
            "field_errors": {"type": ["object", "null"], "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "DrfError": {"type": "object", "properties": {"detail": s("string")}, "additionalProperties": true},
        "LmsV1Error": {"type": "object", "description": "Open edX v1: {\"message\"} (plus error_code where Rollcall adds one); DRF-level failures are {\"detail\"}",
            "properties": {"message": s("string"), "error_code": s("string"), "detail": s("string"), "localizedMessage": s("string")}},
        "DeveloperError": {"type": "object", "properties": {"developer_message": s("string"), "error_code": s("string"),
            "detail": {"type": "string", "description": "authentication and throttling failures (DRF's)"},
            "field_errors": {"type": "object", "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "OAuthError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "rate_limited", "server_error", "temporarily_unavailable", "not_found", "method_not_allowed", "route_not_found"]}, "error_description": s("string")}},
        "TokenRequest": {"type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials", "password", "refresh_token"]}, "client_id": s("string"), "client_secret": s("string"),
            "refresh_token": {"type": "string", "description": "for grant_type=refresh_token"},
            "username": s("string"), "password": s("string"), "token_type": {"type": "string", "enum": ["jwt", "bearer"]}, "scope": s("string")}},
        "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"], "properties": {
            "access_token": s("string"), "token_type": {"type": "string", "enum": ["JWT", "Bearer"]}, "expires_in": s("integer"), "scope": s("string"),
            "refresh_token": {"type": "string", "description": "password and refresh_token grants; exchanged once"}}},
        "RevokeRequest": {"type": "object", "required": ["token", "client_id", "client_secret"], "properties": {"token": s("string"), "client_id": s("string"), "client_secret": s("string")}},
        "LoginRequest": {"type": "object", "required": ["password"], "properties": {"username": s("string"), "email": s("string"), "password": s("string")}},
        "LoginResponse": {"type": "object", "properties": {"username": s("string"), "csrf_token": s("string")}},
        "AppsemblerLoginForm": {"type": "object", "properties": {"method": s("string"), "submit_url": s("string"), "csrf_token": s("string"),
            "fields": {"type": "array", "items": {"type": "object", "properties": {"name": s("string"), "type": s("string"), "required": s("boolean")}}}}},
        "AppsemblerLoginSession": {"type": "object", "required": ["email", "password"], "properties": {"email": s("string"), "password": s("string"),
            "csrfmiddlewaretoken": {"type": "string", "description": "the csrftoken cookie's value, when not sent as X-CSRFToken"}}},
        "AppsemblerLoginSuccess": {"type": "object", "required": ["success"], "properties": {"success": s("boolean")}},
        "Health": {"type": "object", "properties": {"status": s("string"), "database": s("string")}},
        "CourseMode": mode,
        "CourseModeList": {"type": "object", "properties": {"course_key": s("string"), "modes": {"type": "array", "items": r("CourseMode")}}},
        "AdminCourseInput": {"type": "object", "required": ["course_key", "title"], "properties": course_props, "additionalProperties": false},
        "AdminCourse": course,
        "AdminCoursePage": page("AdminCourse"),
        "CourseStaffInput": {"type": "object", "required": ["username"], "properties": {"username": s("string"), "role": {"type": "string", "enum": ["instructor", "staff"]}}},
        "CourseStaffList": {"type": "object", "properties": {"course_key": s("string"), "staff": {"type": "array", "items": {"type": "object", "properties": {
            "username": s("string"), "email": s("string"), "role": s("string"), "created": date}}}}},
        "AdminUser": {"type": "object", "properties": user_props},
        "AdminUserInput": user_input,
        "AdminUserPage": page("AdminUser"),
        "OAuthClientInput": {"type": "object", "required": ["name", "user"], "properties": {"name": s("string"), "user": {"type": "string", "description": "username the client acts as"},
            "public": {"type": "boolean", "description": "a client that cannot keep a secret (mobile app, SPA): no secret; password and refresh_token grants only"}}},
        "OAuthClient": client,
        "OAuthClientCreated": client_created,
        "OAuthClientList": {"type": "object", "properties": {"results": {"type": "array", "items": r("OAuthClient")}}},
        "PublicCourse": {"type": "object", "properties": {"id": s("string"), "course_id": s("string"), "name": s("string"), "org": s("string"),
            "number": s("string"), "start": date, "end": date, "enrollment_start": date, "enrollment_end": date, "pacing": s("string"),
            "invitation_only": s("boolean"), "price": money, "currency": s("string"), "code": ns("string"), "level": ns("string"), "hidden": s("boolean"),
            "effort": ns("string"), "duration_hours": ns("integer"),
            "modes": {"type": "array", "items": {"type": "object", "required": ["slug", "name"], "properties": {"slug": s("string"), "name": s("string")}}}}},
        "PublicCoursePage": {"type": "object", "properties": {"results": {"type": "array", "items": r("PublicCourse")},
            "pagination": {"type": "object", "properties": {"next": ns("string"), "previous": ns("string"), "count": s("integer"), "num_pages": s("integer")}}}},
        "OpenApiDocument": {"type": "object", "description": "An OpenAPI 3.1 document"},
        "V1Mode": {"type": "object", "properties": {"slug": s("string"), "name": s("string"), "min_price": s("number"), "suggested_prices": s("string"),
            "currency": s("string"), "expiration_datetime": date, "description": ns("string"), "sku": ns("string"), "bulk_sku": ns("string")}},
        "V1CourseDetails": {"type": "object", "properties": {"course_id": s("string"), "course_name": s("string"), "enrollment_start": date,
            "enrollment_end": date, "course_start": date, "course_end": date, "invite_only": s("boolean"),
            "course_modes": {"type": "array", "items": r("V1Mode")}, "pacing_type": s("string")}},
        "V1Enrollment": {"type": "object", "additionalProperties": false, "required": ["created", "mode", "is_active", "user", "course_details"], "properties": {"created": date, "mode": s("string"), "is_active": s("boolean"), "user": s("string"),
            "course_details": r("V1CourseDetails")}},
        "V1EnrollmentOrNull": {"oneOf": [r("V1Enrollment"), {"type": "null"}]},
        "V1EnrollmentList": {"type": "array", "items": r("V1Enrollment")},
        "V1EnrollmentAttribute": {"type": "object", "required": ["namespace", "name", "value"], "properties": {"namespace": s("string"), "name": s("string"), "value": s("string")}},
        "V1EnrollmentRequest": {"type": "object", "required": ["course_details"], "properties": {
            "user": s("string"), "email": s("string"), "mode": s("string"), "is_active": s("boolean"), "force_enrollment": s("boolean"),
            "course_details": {"type": "object", "required": ["course_id"], "properties": {"course_id": s("string")}},
            "enrollment_attributes": {"type": "array", "items": r("V1EnrollmentAttribute")}}},
        "V1EnrollmentCursorPage": {"type": "object", "properties": {"next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": {
            "type": "object", "properties": {"created": date, "mode": s("string"), "is_active": s("boolean"), "user": s("string"), "course_id": s("string")}}}}},
        "V1EnrollmentAllowedRequest": {"type": "object", "required": ["email", "course_id"], "properties": {"email": s("string"), "course_id": s("string"), "auto_enroll": s("boolean")}},
        "V1EnrollmentAllowed": {"type": "object", "properties": {"email": s("string"), "course_id": s("string"), "auto_enroll": s("boolean"), "user": ns("integer"), "created": date}},
        "V1EnrollmentAllowedList": {"type": "array", "items": r("V1EnrollmentAllowed")},
        "V1Roles": {"type": "object", "properties": {"roles": {"type": "array", "items": {"type": "object", "properties": {"org": s("string"), "course_id": s("string"), "role": s("string")}}}, "is_staff": s("boolean")}},
        "Me": {"type": "object", "properties": {"username": s("string")}},
        "V1UnenrollRequest": {"type": "object", "required": ["username"], "properties": {"username": s("string")}},
        "V1RetiredOrgs": {"type": "array", "items": s("string"), "description": "organizations of the courses left"},
        "WebhookInput": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}},
        "Webhook": {"type": "object", "properties": {"id": s("integer"), "url": s("string"), "active": s("boolean"), "created": date.clone()}},
        "WebhookCreated": {"type": "object", "properties": {"id": s("integer"), "url": s("string"), "active": s("boolean"), "created": date.clone(),
            "secret": {"type": "string", "description": "whsec_…: verify webhook-signature (Standard Webhooks) with it; shown once"}}},
        "WebhookList": {"type": "object", "properties": {"results": {"type": "array", "items": r("Webhook")}}},
        "AppsemblerError": {"type": "object", "description": "{\"user_message\"} for refused input, {\"detail\"} for authentication and permissions, {field: [message]} for missing fields",
            "properties": {"user_message": s("string"), "detail": s("string")}, "additionalProperties": true},
        "AppsemblerCreateAccount": {"type": "object", "required": ["username", "password", "email", "name"], "properties": {"username": s("string"), "password": s("string"),
            "email": s("string"), "name": s("string"), "send_activation_email": s("string")}},
        "AppsemblerUserWithoutPassword": {"type": "object", "required": ["email", "name"], "properties": {"email": s("string"), "name": s("string"), "country": s("string"),
            "city": s("string"), "gender": s("string"), "goals": s("string"), "level_of_education": s("string"), "year_of_birth": s("string")}},
        "AppsemblerConnect": {"type": "object", "required": ["username"], "properties": {"username": s("string"), "email": s("string"), "password": s("string"), "name": s("string")}},
        "AppsemblerUpdateUser": {"type": "object", "required": ["user_lookup"], "properties": {"user_lookup": s("string"), "email": s("string"), "name": s("string"),
            "country": s("string"), "gender": s("string"), "level_of_education": s("string"), "year_of_birth": s("string"), "city": s("string"),
            "mailing_address": s("string"), "language": s("string"), "goals": s("string"), "bio": s("string")}, "additionalProperties": {"type": "string"}},
        "AppsemblerUserId": {"type": "object", "required": ["user_id"], "properties": {"user_id": s("integer"), "username": {"type": "string", "description": "user_without_password only"}}},
        "AppsemblerCreatedUser": {"type": "object", "required": ["user_id "], "description": "The original's key has a trailing space: `{\"user_id \": id}`",
            "properties": {"user_id ": s("integer")}},
        "AppsemblerUsername": {"type": "object", "required": ["user_id"], "description": "The original's key: user_id holds the username", "properties": {"user_id": s("string")}},
        "AppsemblerSuccess": {"type": "object", "properties": {"success": {"type": ["boolean", "string"]}, "reason": s("string")}},
        "AppsemblerGenerateCodes": {"type": "object", "required": ["course_id", "total_registration_codes"], "properties": {"course_id": s("string"), "total_registration_codes": {"type": ["string", "integer"]}}},
        "AppsemblerCodes": {"type": "object", "properties": {"course_id": s("string"), "codes": {"type": "array", "items": s("string")}, "course_url": s("string")}},
        "AppsemblerRedeemCode": {"type": "object", "required": ["email", "enrollment_code"], "properties": {"email": s("string"), "enrollment_code": s("string")}},
        "AppsemblerCodeStatus": {"type": "object", "required": ["enrollment_code", "action"], "properties": {"enrollment_code": s("string"), "action": {"type": "string", "enum": ["cancel", "restore"]}}},
        "AppsemblerBulkEnroll": {"type": "object", "required": ["action", "identifiers", "courses"], "properties": {"action": {"type": "string", "enum": ["enroll", "unenroll"]},
            "identifiers": {"type": "string", "description": "comma-separated emails or usernames"}, "courses": {"type": "string", "description": "comma-separated course keys"},
            "auto_enroll": {"type": "boolean", "description": "also \"true\"/\"false\" as text"}, "email_students": {"type": "boolean", "description": "also \"true\"/\"false\" as text"}}},
        "AppsemblerBulkResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "email_students": s("boolean"),
            "courses": {"type": "object", "additionalProperties": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"),
            "invalidIdentifier": s("boolean"), "error": s("boolean")}}}}}}}},
        "AppsemblerAccounts": {"type": "array", "items": {"type": "object", "properties": {"id": s("integer"), "username": s("string"), "email": s("string"), "is_active": s("boolean"), "date_joined": date.clone()}}},
        "AppsemblerEnrollments": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "course_id": s("string"), "user_id": s("integer"),
            "enrollment_id": s("integer"), "date_enrolled": date.clone(),
            "certificate": {"type": "object", "description": "Passed learners only", "properties": {"completion_date": s("string"), "grade": s("string"), "url": ns("string")}}}}},
        "ConfirmEmailRequest": {"type": "object", "required": ["token"], "properties": {"token": s("string")}},
        "SetPasswordRequest": {"type": "object", "required": ["token", "password"], "properties": {"token": s("string"), "password": {"type": "string", "minLength": 8}}},
        "CheckoutError": {"type": "object", "required": ["success", "message", "errors", "error_code"], "properties": {"success": {"type": "boolean", "description": "always false"},
            "message": s("string"), "errors": {"type": "object", "additionalProperties": {"type": "array", "items": s("string")}}, "error_code": s("string"), "rollback": s("string")}},
        "CheckoutRequest": {"type": "object", "required": ["student", "course", "payment"], "properties": {
            "student": {"type": "object", "required": ["email", "first_name", "last_name"], "properties": {"email": s("string"), "first_name": s("string"),
                "last_name": s("string"), "phone": s("string"), "date_of_birth": {"type": "string", "format": "date"},
                "address": {"type": "object", "properties": {"street": s("string"), "city": s("string"), "state": s("string"), "country": s("string"), "postal_code": s("string")}},
                "preferences": {"type": "object"}}},
            "course": {"type": "object", "required": ["code"], "properties": {"code": s("string"), "custom_fields": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "value": s("string")}}}}},
            "payment": {"type": "object", "required": ["amount", "currency", "method"], "properties": {"amount": {"type": ["number", "string"]},
                "currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "CAD"]}, "method": {"type": "string", "enum": ["credit_card", "debit_card", "paypal", "bank_transfer"]},
                "coupon_code": s("string"), "card": {"type": "object", "properties": {"number": s("string"), "holder_name": s("string"), "expiry_month": s("integer"), "expiry_year": s("integer"), "cvv": s("string")}},
                "billing_address": {"type": "object"}}},
            "enrollment": {"type": "object", "properties": {"start_immediately": s("boolean"), "send_welcome_email": s("boolean"), "grant_certificate": s("boolean"), "notes": s("string"), "modules": {"type": "array"}}},
            "metadata": {"type": "object"}}},
        "CheckoutResponse": {"type": "object", "required": ["success", "message", "data", "meta"], "properties": {"success": {"type": "boolean", "description": "always true"},
            "message": s("string"), "data": {"type": "object", "required": ["id", "enrollment_number", "status", "student", "course", "enrollment", "payment", "progress", "created_at", "updated_at"], "properties": {
            "id": s("integer"), "enrollment_number": s("string"), "status": s("string"),
            "student": {"type": "object", "required": ["id", "username", "email", "name", "phone"], "properties": {"id": s("integer"), "username": s("string"), "email": s("string"), "name": s("string"), "phone": ns("string")}},
            "course": {"type": "object", "required": ["id", "course_key", "code", "title", "level", "duration_hours"], "properties": {"id": s("integer"), "course_key": s("string"), "code": ns("string"),
                "title": s("string"), "level": ns("string"), "duration_hours": ns("integer")}},
            "enrollment": {"type": "object", "required": ["mode", "is_active"], "properties": {"mode": s("string"), "is_active": s("boolean")}},
            "payment": {"type": "object", "required": ["amount", "amount_charged", "discount", "coupon_code", "currency", "status", "transaction_id", "paid_at"], "properties": {
                "amount": s("number"), "amount_charged": s("number"), "discount": s("number"), "coupon_code": ns("string"), "currency": s("string"), "status": s("string"),
                "transaction_id": ns("string"), "paid_at": date.clone()}},
            "progress": {"type": "object", "required": ["percentage", "enrolled_at", "started_at", "completed_at", "expires_at"], "properties": {"percentage": s("number"),
                "enrolled_at": date.clone(), "started_at": date.clone(), "completed_at": date.clone(), "expires_at": date.clone()}},
            "created_at": date.clone(), "updated_at": date.clone()}},
            "meta": {"type": "object", "required": ["enrollment_number", "transaction_id", "processing_time_ms"], "properties": {"enrollment_number": s("string"), "transaction_id": ns("string"), "processing_time_ms": s("number")}}}},
        "LearningPathStep": {"type": "object", "properties": {"order": s("integer"), "course_key": s("string"), "course_dates": {"type": "array", "items": date.clone()}, "weight": s("number")}},
        "LearningPath": {"type": "object", "properties": {"key": {"type": "string", "examples": ["path-v1:Org+WEB+2026+T1"]}, "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"),
            "image": ns("string"), "sequential": s("boolean"), "steps": {"type": "array", "items": r("LearningPathStep")}, "required_completion": s("number"),
            "enrollment_date": date.clone(), "invite_only": s("boolean"), "subtitle": s("string"), "description": s("string"), "level": s("string"),
            "duration": s("string"), "time_commitment": s("string"),
            "required_skills": {"type": "array", "items": {"type": "object", "additionalProperties": true}},
            "acquired_skills": {"type": "array", "items": {"type": "object", "additionalProperties": true}}}},
        "LearningPathPage": {"type": "object", "required": ["count", "next", "previous", "results"], "properties": {"count": s("integer"),
            "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r("LearningPath")}}},
        "LearningPathEnrollment": {"type": "object", "properties": {"user": s("integer"), "learning_path": s("integer"), "is_active": s("boolean"), "created": date.clone()}},
        "LearningPathUsername": {"type": "object", "properties": {"username": {"type": ["string", "null"], "description": "whom to enroll; the caller when absent"}}},
        "LearningPathEnrollmentList": {"type": "array", "items": r("LearningPathEnrollment")},
        "LearningPathEnrollRequest": {"type": "object", "properties": {"username": {"type": "string", "description": "default: the caller"}}},
        "LearningPathBulkRequest": {"type": "object", "required": ["learning_paths", "emails"], "properties": {
            "learning_paths": {"type": "string", "description": "comma-separated keys"}, "emails": {"type": "string", "description": "comma-separated"},
            "reason": ns("string"), "org": ns("string"), "role": ns("string")}},
        "LearningPathBulkCounts": {"type": "object", "properties": {"enrollments_created": s("integer"), "enrollment_allowed_created": s("integer")}},
        "AdminLearningPathInput": {"type": "object", "required": ["key", "display_name"], "properties": {"key": s("string"), "display_name": s("string"),
            "subtitle": s("string"), "description": s("string"), "level": {"type": "string", "enum": ["", "beginner", "intermediate", "advanced"]},
            "duration": s("string"), "time_commitment": s("string"), "sequential": s("boolean"), "invite_only": s("boolean"),
            "steps": {"type": "array", "items": {"type": "object", "required": ["course_key"], "properties": {"course_key": s("string"), "weight": s("number")}}}}},
        "AdminLearningPath": {"type": "object", "required": ["key", "uuid", "display_name", "subtitle", "description", "level", "duration", "time_commitment", "sequential", "invite_only", "steps"],
            "properties": {"key": s("string"), "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"), "subtitle": s("string"), "description": s("string"),
            "level": s("string"), "duration": s("string"), "time_commitment": s("string"), "sequential": s("boolean"), "invite_only": s("boolean"),
            "steps": {"type": "array", "items": {"type": "object", "required": ["order", "course_key", "weight"], "properties": {"order": s("integer"), "course_key": s("string"), "weight": s("number")}}}}},
        "AdminLearningPathList": {"type": "object", "properties": {"results": {"type": "array", "items": r("AdminLearningPath")}}},
        "OutboxMessage": {"type": "object", "properties": {"id": s("integer"), "channel": s("string"), "message_type": s("string"), "recipient": s("string"),
            "payload": {"type": "object", "additionalProperties": true, "description": "the message's data; its keys depend on message_type"}, "status": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": s("integer"),
            "last_error": ns("string"), "next_attempt_at": date, "created": date, "sent_at": date}},
        "OutboxPage": {"type": "object", "properties": {"count": s("integer"), "next": ns("string"), "results": {"type": "array", "items": r("OutboxMessage")}}},
        "V2Enrollment": {"type": "object", "required": ["username", "email", "first_name", "last_name", "is_active"], "properties": {
            "username": ns("string"), "email": s("string"), "first_name": s("string"), "last_name": s("string"), "mode": ns("string"),
            "is_active": s("boolean"), "created": date, "enrollment_allowed": s("boolean"), "auto_enroll": s("boolean"),
            "beta_tester": s("boolean"), "profile_image": r("ProfileImage"), "completion": {"oneOf": [r("Progress"), {"type": "null"}]}}},
        "V2EnrollmentPage": page("V2Enrollment"),
        "V2EnrollRequest": {"type": "object", "required": ["identifiers"], "properties": {
            "identifiers": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 255}}, "mode": ns("string"),
            "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": ns("string")}},
        "V2EnrollmentState": {"type": "object", "required": ["enrolled", "allowed"], "properties": {"enrolled": s("boolean"), "allowed": s("boolean"), "mode": ns("string"), "auto_enroll": ns("boolean")}},
        "V2OperationResult": {"type": "object", "properties": {"action": s("string"), "results": {"type": "array", "items": {"type": "object", "required": ["identifier"], "properties": {
            "identifier": s("string"), "before": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]}, "after": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]},
            "error": ns("string"), "error_code": ns("string")}}}}},
        "LearningPathProgress": {"type": "object", "required": ["learning_path_key", "progress", "required_completion"], "properties": {
            "learning_path_key": s("string"), "progress": s("number"), "required_completion": s("number")}},
        "LearningPathGrade": {"type": "object", "required": ["learning_path_key", "grade", "required_grade"], "properties": {
            "learning_path_key": s("string"), "grade": s("number"), "required_grade": s("number")}},
        "Program": {"type": "object", "required": ["uuid", "name", "marketing_slug", "title", "subtitle", "status", "banner_image_urls", "organizations", "course_codes"], "properties": {
            "uuid": s("string"), "name": s("string"), "marketing_slug": s("string"), "title": s("string"), "subtitle": s("string"), "status": s("string"),
            "banner_image_urls": s("object"), "organizations": {"type": "array", "items": {}},
            "course_codes": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "run_modes": {"type": "array", "items": {"type": "object",
                "properties": {"course_key": s("string"), "run_key": s("string")}}}}}}}},
        "ProgramPage": {"type": "object", "required": ["count", "results"], "properties": {"count": s("integer"), "num_pages": s("integer"), "current_page": s("integer"),
            "start": s("integer"), "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r("Program")}}},
        "FrontPage": {"type": "object", "required": ["school", "surfaces"], "properties": {"school": s("string"), "server": s("string"), "version": s("string"),
            "reference": s("string"), "openapi": s("string"), "console": s("string"), "health": s("string"),
            "surfaces": {"type": "array", "items": {"type": "object", "properties": {"name": s("string"), "for": s("string"), "reference": s("string"), "starts_at": s("string")}}}}},
        "Progress": {"type": "object", "required": ["completion", "grade", "passed", "completed_at", "certificate_url", "updated_at"], "properties": {
            "completion": {"type": "number", "minimum": 0, "maximum": 1}, "grade": {"type": "number", "minimum": 0, "maximum": 1}, "passed": s("boolean"),
            "completed_at": ns("string"), "certificate_url": ns("string"), "updated_at": s("string")}},
        "ProgressInput": {"type": "object", "required": ["completion"], "additionalProperties": false, "properties": {
            "completion": {"type": "number", "minimum": 0, "maximum": 1}, "grade": {"type": "number", "minimum": 0, "maximum": 1}, "passed": s("boolean"),
            "completed_at": {"type": ["string", "null"], "format": "date-time"}, "certificate_url": {"type": ["string", "null"], "pattern": "^https?://[^\\s\\u0000-\\u001F\\u007F-\\u009F]+$", "maxLength": URL_MAX_CHARS}}},
        "AdminHistoryPage": {"type": "object", "required": ["next", "results"], "properties": {"next": ns("string"), "results": {"type": "array", "items": {"type": "object", "properties": {
            "id": s("integer"), "created": s("string"), "username": ns("string"), "email": s("string"), "actor": s("string"), "surface": s("string"),
            "source": s("string"), "reason": ns("string"), "before": {"oneOf": [r("HistoryState"), {"type": "null"}]}, "after": {"oneOf": [r("HistoryState"), {"type": "null"}]}}}}}},
        "HistoryState": {"type": "object", "required": ["user", "enrollment", "allowed", "mode", "auto_enroll"], "properties": {"user": s("boolean"), "enrollment": s("boolean"),
            "allowed": s("boolean"), "mode": ns("string"), "auto_enroll": s("boolean")}},
        "V2AsyncResult": {"type": "object", "required": ["task_id", "status_url", "action", "count"], "properties": {"task_id": s("string"), "status_url": s("string"), "action": s("string"), "count": s("integer")}},
        "V2Task": {"type": "object", "required": ["task_id", "course_key", "action", "status", "progress", "created", "started", "finished", "results", "results_page"],
            "properties": {"task_id": s("string"), "course_key": s("string"), "action": s("string"),
            "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed", "cancelled"]},
            "progress": {"type": "object", "required": ["total", "done", "succeeded", "failed"], "properties": {"total": s("integer"), "done": s("integer"), "succeeded": s("integer"), "failed": s("integer")}},
            "created": date.clone(), "started": date.clone(), "finished": date.clone(), "results": {"type": "array", "items": r("V2TaskResult")},
            "results_page": {"type": "object", "required": ["page", "page_size", "num_pages"], "properties": {"page": s("integer"), "page_size": s("integer"), "num_pages": s("integer")}}}},
        "V2TaskResult": {"type": "object", "required": ["identifier", "status"], "description": "before/after once the row is done; error and error_code when it was refused",
            "properties": {"identifier": s("string"), "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
            "before": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]}, "after": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]},
            "error": s("string"), "error_code": s("string")}},
        "InstructorEnrollmentPage": {"type": "object", "required": ["count", "num_pages", "current_page", "start", "next", "previous", "results"], "properties": {"count": s("integer"),
            "num_pages": s("integer"), "current_page": s("integer"), "start": s("integer"), "next": ns("string"), "previous": ns("string"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "email": s("string"), "full_name": s("string"),
            "mode": ns("string"), "is_active": s("boolean"), "is_beta_tester": s("boolean"), "created": date}}}}},
        "InstructorState": {"type": "object", "required": ["user", "enrollment", "allowed", "auto_enroll"], "properties": {"user": s("boolean"), "enrollment": s("boolean"), "allowed": s("boolean"), "auto_enroll": s("boolean")}},
        "InstructorModifyRequest": {"type": "object", "required": ["identifier", "action"], "properties": {"identifier": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "action": {"type": "string", "enum": ["enroll", "unenroll"]}, "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": s("string")}},
        "InstructorModifyResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "results": {"type": "array", "items": {"type": "object", "properties": {
            "identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"), "invalid_identifier": s("boolean"), "error": s("boolean")}}}}},
        "Account": {"type": "object", "required": ["username", "profile_image"], "properties": {"id": s("integer"), "username": s("string"), "name": s("string"),
            "email": s("string"), "secondary_email": ns("string"), "is_active": s("boolean"), "date_joined": date.clone(), "last_login": date.clone(),
            "bio": ns("string"), "city": ns("string"), "country": ns("string"), "gender": ns("string"), "goals": ns("string"), "language": ns("string"),
            "level_of_education": ns("string"), "mailing_address": ns("string"), "year_of_birth": ns("integer"), "date_of_birth": ns("string"),
            "phone_number": ns("string"), "time_zone": ns("string"), "requires_parental_consent": s("boolean"), "accomplishments_shared": s("boolean"),
            "profile_image": r("ProfileImage"), "account_privacy": s("string"),
            "language_proficiencies": {"type": "array", "items": {"type": "object", "required": ["code"], "properties": {"code": s("string")}}},
            "social_links": {"type": "array", "items": {"type": "object", "required": ["platform", "social_link"], "properties": {"platform": s("string"), "social_link": s("string")}}},
            "extended_profile": {"type": "array", "items": {"type": "object", "required": ["field_name", "field_value"], "properties": {"field_name": s("string"), "field_value": {}}}}}},
        "ProfileImage": {"type": "object", "required": ["has_image", "image_url_full", "image_url_large", "image_url_medium", "image_url_small"], "properties": {
            "has_image": s("boolean"), "image_url_full": s("string"), "image_url_large": s("string"), "image_url_medium": s("string"), "image_url_small": s("string")}},
        "AccountList": {"type": "array", "items": r("Account")},
        "DeactivateLogout": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "minLength": 1}}},
        // One of the two is required (a 400 names them): stated in words, since an `anyOf`
        // of `required` lists makes openapi-python-client emit a body it cannot import.
        "RetireRequest": {"type": "object", "description": "Give one of: username (retire one account now) or usernames (retire many as a task, 202).",
            "properties": {"username": {"type": "string", "minLength": 1, "pattern": "\\S"}, "usernames": {"type": "array", "items": {"type": "string", "minLength": 1, "pattern": "\\S"}, "minItems": 1, "maxItems": 10000}}},
        "Retirement": {"type": "object", "required": ["username", "email"], "properties": {
            "username": {"type": "string", "pattern": "^retired__user_[0-9a-f]{40}$"}, "email": {"type": "string", "pattern": "^retired__user_[0-9a-f]{40}@retired\\.invalid$"}}},
        "RetirementTask": {"type": "object", "required": ["task_id", "status", "total", "done", "results"], "properties": {
            "task_id": {"type": "string", "format": "uuid"}, "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed"]},
            "total": s("integer"), "done": s("integer"), "succeeded": s("integer"), "failed": s("integer"),
            "created": date, "started": {"type": ["string", "null"], "format": "date-time"}, "finished": {"type": ["string", "null"], "format": "date-time"}, "url": s("string"),
            "results": {"type": "array", "description": "One per username asked, in order: the retired username once retired", "items": {"type": "object", "required": ["position", "username", "status"], "properties": {
                "position": s("integer"), "username": s("string"), "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]}, "error": s("string"), "error_code": s("string")}}}}},
        "UserExport": {"type": "object", "description": "Everything Rollcall holds about one person (README \"Privacy requests\"). Dates are ISO 8601 UTC; money is in minor units. Other learners never appear: history rows are the person's own, and their actor is who made the change (a username, api-key or system).",
            "required": ["format", "generated_at", "username", "account"], "properties": {
            "format": {"type": "string", "const": "rollcall-user-export/1"}, "generated_at": date, "username": s("string"),
            "account": {"type": "object", "description": "The account row: profile fields, flags, has_password (never the hash), date_joined, last_login"},
            "custom_fields": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "value": s("string")}}},
            "enrollments": {"type": "array", "description": "With progress: completion, grade, passed, completed_at, certificate_url", "items": {"type": "object", "properties": {
                "id": s("integer"), "course_key": s("string"), "course_title": s("string"), "mode": s("string"), "is_active": s("integer"), "created": s("string"), "updated": s("string"),
                "completion": ns("number"), "grade": ns("number"), "passed": ns("integer"), "completed_at": ns("string"), "certificate_url": ns("string")}}},
            "enrollment_attributes": {"type": "array", "items": {"type": "object"}},
            "enrollment_history": {"type": "array", "items": {"type": "object", "properties": {"id": s("integer"), "course_key": s("string"), "actor": s("string"),
                "surface": s("string"), "source": s("string"), "reason": ns("string"), "before": {"type": "object"}, "after": {"type": "object"}, "created": s("string")}}},
            "progress_history": {"type": "array", "items": {"type": "object"}},
            "pre_enrollments": {"type": "array", "description": "Invitations under the person's email (courses, pending courses, learning paths)", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["course", "learning_path"]}, "key": s("string"), "auto_enroll": s("integer"), "claimed": s("integer"), "created": s("string")}}},
            "learning_path_enrollments": {"type": "array", "items": {"type": "object"}},
            "code_redemptions": {"type": "array", "items": {"type": "object", "properties": {"code": s("string"), "course_key": s("string"), "created": s("string")}}},
            "checkout_orders": {"type": "array", "description": "As stored: the card's last four digits only", "items": {"type": "object", "properties": {
                "enrollment_number": s("string"), "transaction_id": s("string"), "course_key": s("string"), "status": s("string"), "amount_minor": s("integer"),
                "discount_minor": s("integer"), "currency": s("string"), "coupon_code": ns("string"), "method": s("string"), "card_last_four": ns("string"), "details": {"type": "object"}}}},
            "emails": {"type": "array", "description": "Subject, type, status and dates; never the body or its links", "items": {"type": "object", "properties": {
                "id": s("integer"), "message_type": s("string"), "subject": ns("string"), "status": s("string"), "created": s("string"), "sent_at": ns("string")}}},
            "webhook_events": {"type": "array", "description": "Events that named the person: ids and dates", "items": {"type": "object", "properties": {
                "id": s("integer"), "type": s("string"), "endpoint_id": s("integer"), "status": s("string"), "created": s("string"), "sent_at": ns("string")}}}}},
        "AccountPatch": {"type": "object", "description": "application/merge-patch+json; email only for staff", "additionalProperties": false, "properties": {
            "name": {"type": "string", "maxLength": 255}, "email": {"type": "string", "pattern": EMAIL_PATTERN},
            "bio": {"type": ["string", "null"], "maxLength": 3000}, "city": {"type": ["string", "null"], "maxLength": 3000},
            "goals": {"type": ["string", "null"], "maxLength": 3000}, "language": {"type": ["string", "null"], "maxLength": 3000},
            "mailing_address": {"type": ["string", "null"], "maxLength": 3000}, "phone_number": {"type": ["string", "null"], "maxLength": 3000},
            "country": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"}, "gender": {"type": ["string", "null"], "enum": ["m", "f", "o", null]},
            "level_of_education": {"type": ["string", "null"], "enum": ["p", "m", "b", "a", "hs", "jhs", "el", "none", "other", null]},
            "year_of_birth": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
            "extended_profile": {"type": "array", "items": {"type": "object", "required": ["field_name"], "properties": {"field_name": {"type": "string"}, "field_value": {}}}}}},
    })
}
