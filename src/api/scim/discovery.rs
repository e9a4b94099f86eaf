//! The discovery documents (RFC 7644 §4, their schemas RFC 7643 §5–7): what this service
//! provider supports (patch, filter, ETags; no bulk, sort or password change), its two
//! resource types, and the User and Group schemas limited to the attributes it keeps.

use super::render::{GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{json, Value};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one list answer holds (`count` above it is lowered to it).
pub const MAX_RESULTS: i64 = 100;

fn meta(base: &str, resource_type: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": format!("{base}/scim/v2/{path}")})
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": format!("{base}/api-docs/#scim"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM token",
            "description": "A SCIM token made by a superuser (POST /api/admin/v1/scim-tokens or `rollcall create-scim-token`), sent as Authorization: Bearer <token>.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": meta(base, "ServiceProviderConfig", "ServiceProviderConfig"),
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    [("User", "/Users", USER_SCHEMA, "User Account"), ("Group", "/Groups", GROUP_SCHEMA, "Group")]
        .iter()
        .map(|(name, endpoint, schema, description)| {
            json!({"schemas": [RESOURCE_TYPE_SCHEMA], "id": name, "name": name, "endpoint": endpoint,
                "description": description, "schema": schema, "schemaExtensions": [],
                "meta": meta(base, "ResourceType", &format!("ResourceTypes/{name}"))})
        })
        .collect()
}

/// One attribute definition (RFC 7643 §7), with the RFC's defaults for what is not said.
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "description": description, "required": false,
        "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"})
}

fn with(mut attribute: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().into_iter().flatten() {
        attribute[k] = v.clone();
    }
    attribute
}

pub fn schemas(base: &str) -> Vec<Value> {
    let string = |name: &str, description: &str| attribute(name, "string", description);
    let user_attributes = vec![
        with(
            string("userName", "The account's username: how every other Rollcall surface names the person. Unique, case-insensitively."),
            json!({"required": true, "uniqueness": "server"}),
        ),
        with(
            attribute("name", "complex", "The person's name."),
            json!({"subAttributes": [
                string("formatted", "The full name, as shown (Rollcall's name)."),
                string("familyName", "Family name (Rollcall's last_name)."),
                string("givenName", "Given name (Rollcall's first_name)."),
            ]}),
        ),
        string("displayName", "The full name, as shown (the same as name.formatted)."),
        with(
            attribute("emails", "complex", "The account's email address; Rollcall keeps one (the primary, else the work one)."),
            json!({"multiValued": true, "subAttributes": [
                string("value", "The address."),
                with(string("type", "Always work."), json!({"canonicalValues": ["work"]})),
                attribute("primary", "boolean", "Always true."),
            ]}),
        ),
        attribute("active", "boolean", "false deactivates the account: its sessions and tokens end."),
    ];
    let group_attributes = vec![
        with(string("displayName", "The group's name."), json!({"required": true})),
        with(
            attribute("members", "complex", "The group's Users; a group linked to courses enrolls them."),
            json!({"multiValued": true, "subAttributes": [
                with(string("value", "The member's User id."), json!({"mutability": "immutable"})),
                with(attribute("$ref", "reference", "The member's URI."), json!({"referenceTypes": ["User"], "mutability": "immutable"})),
                with(string("display", "The member's userName."), json!({"mutability": "readOnly"})),
            ]}),
        ),
    ];
    [(USER_SCHEMA, "User", "User Account", user_attributes), (GROUP_SCHEMA, "Group", "Group", group_attributes)]
        .into_iter()
        .map(|(id, name, description, attributes)| {
            json!({"schemas": [SCHEMA_SCHEMA], "id": id, "name": name, "description": description, "attributes": attributes,
                "meta": meta(base, "Schema", &format!("Schemas/{id}"))})
        })
        .collect()
}
