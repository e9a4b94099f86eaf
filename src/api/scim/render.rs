//! SCIM's answers: User and Group resources with `meta` (RFC 7643 §3.1), the
//! `ListResponse` envelope (RFC 7644 §3.4.2), `attributes`/`excludedAttributes`
//! projection (§3.4.2.5) and errors (§3.12), all as `application/scim+json`.

use crate::core::scim::ScimUser;
use crate::core::scim_groups::ScimGroup;
use crate::core::{Error, ErrorKind};
use rouille::Response;
use serde_json::{json, Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const MEDIA_TYPE: &str = "application/scim+json";

pub fn response(status: u16, body: &Value) -> Response {
    Response::from_data(MEDIA_TYPE, body.to_string()).with_status_code(status)
}

fn iso(t: i64) -> Value {
    super::super::http::iso(Some(t))
}

fn meta(resource_type: &str, location: String, created: i64, last_modified: i64, version: String) -> Value {
    json!({"resourceType": resource_type, "created": iso(created), "lastModified": iso(last_modified),
        "location": location, "version": version})
}

pub fn user(base: &str, u: &ScimUser) -> Value {
    let mut body = json!({
        "schemas": [USER_SCHEMA],
        "id": u.id.to_string(),
        "userName": u.user_name,
        "active": u.active,
        "emails": [{"value": u.email, "type": "work", "primary": true}],
        "meta": meta("User", format!("{base}/scim/v2/Users/{}", u.id), u.created, u.last_modified, u.version()),
    });
    if let Some(external_id) = &u.external_id {
        body["externalId"] = json!(external_id);
    }
    let mut name = Map::new();
    for (key, value) in [("formatted", &u.formatted), ("givenName", &u.given_name), ("familyName", &u.family_name)] {
        if !value.is_empty() {
            name.insert(key.into(), json!(value));
        }
    }
    if !name.is_empty() {
        body["name"] = Value::Object(name);
    }
    if !u.formatted.is_empty() {
        body["displayName"] = json!(u.formatted);
    }
    body
}

pub fn group(base: &str, g: &ScimGroup) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|(id, username)| json!({"value": id.to_string(), "display": username, "$ref": format!("{base}/scim/v2/Users/{id}")}))
        .collect();
    let mut body = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "members": members,
        "meta": meta("Group", format!("{base}/scim/v2/Groups/{}", g.id), g.created, g.last_modified, g.version()),
    });
    if let Some(external_id) = &g.external_id {
        body["externalId"] = json!(external_id);
    }
    body
}

/// Which attributes a request asked for (`attributes`) or against (`excludedAttributes`),
/// as (attribute, sub-attribute), lower-cased.
#[derive(Debug, Default)]
pub struct Projection {
    pub attributes: Vec<(String, Option<String>)>,
    pub excluded: Vec<(String, Option<String>)>,
}

impl Projection {
    /// `id` and `schemas` are always returned (RFC 7643 §3.1's `returned: always`).
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(map) = resource else { return resource };
        let always = |k: &str| k == "id" || k == "schemas";
        let mut out = Map::new();
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            let value = if self.attributes.is_empty() || always(&key) {
                Some(value)
            } else {
                let asked: Vec<&Option<String>> =
                    self.attributes.iter().filter(|(a, _)| *a == lower).map(|(_, s)| s).collect();
                match (asked.is_empty(), asked.iter().any(|s| s.is_none()), value) {
                    (true, _, _) => None,
                    (_, true, v) => Some(v),
                    (_, false, Value::Object(inner)) => Some(Value::Object(
                        inner
                            .into_iter()
                            .filter(|(k, _)| asked.iter().any(|s| s.as_deref() == Some(&k.to_ascii_lowercase())))
                            .collect(),
                    )),
                    (_, false, v) => Some(v),
                }
            };
            let Some(mut value) = value else { continue };
            if !always(&key) {
                if self.excluded.iter().any(|(a, s)| *a == lower && s.is_none()) {
                    continue;
                }
                if let Value::Object(inner) = &mut value {
                    inner.retain(|k, _| {
                        !self.excluded.iter().any(|(a, s)| *a == lower && s.as_deref() == Some(&k.to_ascii_lowercase()))
                    });
                }
            }
            out.insert(key, value);
        }
        Value::Object(out)
    }
}

pub fn list(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    json!({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start_index,
        "itemsPerPage": resources.len(), "Resources": resources})
}

/// RFC 7644 §3.12: `status` is a string; `scimType` for the 400s and 409s that have one.
pub fn error_body(e: &Error) -> Value {
    let scim_type = match (e.code, e.kind) {
        (Some(code), _) if code.starts_with(|c: char| c.is_ascii_lowercase()) => Some(code),
        (_, ErrorKind::Conflict) => Some("uniqueness"),
        (_, ErrorKind::MalformedJson) => Some("invalidSyntax"),
        (_, ErrorKind::Validation | ErrorKind::EnrollmentClosed | ErrorKind::CourseFull) => Some("invalidValue"),
        _ => None,
    };
    let mut body = json!({"schemas": [ERROR_SCHEMA], "status": e.status().to_string(), "detail": e.developer_message});
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    body
}
