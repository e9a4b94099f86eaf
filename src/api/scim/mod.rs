//! `/scim/v2/…`: the SCIM 2.0 service provider (RFC 7643, RFC 7644) through which a
//! school's identity provider (Entra ID, Okta, Google Workspace) creates, changes and
//! deactivates accounts and keeps groups that enroll their members in linked courses.
//! Authenticated by SCIM tokens only; errors in SCIM's format. `parse` reads SCIM's
//! requests, `render` writes its answers, `discovery` holds the discovery documents.

mod discovery;
mod parse;
pub mod render;

use super::errors::Dialect;
use super::http::Ctx;
use super::router::{Doc, Route};
use crate::core::scim::{self, scim_type, Settings, Token};
use crate::core::scim_groups::{self, Actor};
use crate::core::scim_tokens;
use crate::core::Error;
use render::{response, Projection};
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::Scim, handler, doc };
    let doc = |summary, request, status, response| Doc {
        summary,
        tag: "scim",
        auth: true,
        request,
        status,
        response,
        query: &[],
    };
    let list: &'static [(&str, &str)] = &[
        ("filter", "RFC 7644 §3.4.2.2: eq comparisons joined by and"),
        ("startIndex", "1-based index of the first result (default 1)"),
        ("count", "results per page (default and at most 100)"),
        ("attributes", "comma-separated attributes to return (id and schemas always are)"),
        ("excludedAttributes", "comma-separated attributes to leave out, e.g. members"),
    ];
    let one: &'static [(&str, &str)] = &list[3..];
    vec![
        r(
            "GET",
            "/scim/v2/ServiceProviderConfig",
            get_service_provider_config,
            doc("What this SCIM service provider supports (RFC 7643 §5)", None, 200, Some("ScimServiceProviderConfig")),
        ),
        r(
            "GET",
            "/scim/v2/ResourceTypes",
            get_resource_types,
            doc("The resource types: User and Group (RFC 7643 §6)", None, 200, Some("ScimListResponse")),
        ),
        r(
            "GET",
            "/scim/v2/Schemas",
            get_schemas,
            doc("The User and Group schemas (RFC 7643 §7)", None, 200, Some("ScimListResponse")),
        ),
        r(
            "GET",
            "/scim/v2/Users",
            get_users,
            Doc {
                query: list,
                ..doc("Find users (every account but superusers)", None, 200, Some("ScimListResponse"))
            },
        ),
        r("POST", "/scim/v2/Users", post_users, doc("Create an account", Some("ScimUser"), 201, Some("ScimUser"))),
        r("GET", "/scim/v2/Users/{id}", get_user, Doc { query: one, ..doc("Get a user", None, 200, Some("ScimUser")) }),
        r(
            "PUT",
            "/scim/v2/Users/{id}",
            put_user,
            doc(
                "Replace a user (what is not sent is cleared; active is kept)",
                Some("ScimUser"),
                200,
                Some("ScimUser"),
            ),
        ),
        r(
            "PATCH",
            "/scim/v2/Users/{id}",
            patch_user,
            doc(
                "Change a user: add, replace, remove (active false deactivates: sessions and tokens end)",
                Some("ScimPatchOp"),
                200,
                Some("ScimUser"),
            ),
        ),
        r(
            "DELETE",
            "/scim/v2/Users/{id}",
            delete_user,
            doc("Deactivate an account and remove it from SCIM (enrollments and history stay)", None, 204, None),
        ),
        r(
            "GET",
            "/scim/v2/Groups",
            get_groups,
            Doc { query: list, ..doc("Find groups", None, 200, Some("ScimListResponse")) },
        ),
        r("POST", "/scim/v2/Groups", post_groups, doc("Create a group", Some("ScimGroup"), 201, Some("ScimGroup"))),
        r(
            "GET",
            "/scim/v2/Groups/{id}",
            get_group,
            Doc { query: one, ..doc("Get a group", None, 200, Some("ScimGroup")) },
        ),
        r(
            "PUT",
            "/scim/v2/Groups/{id}",
            put_group,
            doc("Replace a group and its members", Some("ScimGroup"), 200, Some("ScimGroup")),
        ),
        r(
            "PATCH",
            "/scim/v2/Groups/{id}",
            patch_group,
            doc(
                "Rename a group, add or remove members (they join or leave its linked courses)",
                Some("ScimPatchOp"),
                200,
                Some("ScimGroup"),
            ),
        ),
        r(
            "DELETE",
            "/scim/v2/Groups/{id}",
            delete_group,
            doc("Delete a group: its members leave the courses it enrolled them in", None, 204, None),
        ),
    ]
}

/// The SCIM token of the request (or 401), within the admin rate limit: the router does
/// not ask `core::sessions`, whose credentials are no good here.
fn token(ctx: &mut Ctx) -> Result<Token, Error> {
    let token = scim_tokens::authenticate(&ctx.env.db, ctx.req.header("Authorization"))?;
    ctx.throttle(&ctx.env.limits.admin, &format!("scim:{}", token.id))?;
    Ok(token)
}

fn actor_name(token: &Token) -> String {
    format!("scim:{}", token.name)
}

fn settings(ctx: &Ctx) -> Settings {
    Settings { allow_username_change: ctx.env.config.scim.allow_username_change }
}

fn base<'a>(ctx: &'a Ctx) -> &'a str {
    &ctx.env.base_url
}

fn projection(ctx: &Ctx) -> Result<Projection, Error> {
    Ok(Projection {
        attributes: parse::attribute_list(ctx.query_param("attributes"))?,
        excluded: parse::attribute_list(ctx.query_param("excludedAttributes"))?,
    })
}

/// `startIndex` (at least 1) and `count` (0 to the maximum).
fn paging(ctx: &Ctx) -> Result<(i64, i64), Error> {
    let number = |name: &str, default: i64| match ctx.query_param(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<i64>().map_err(|_| {
            scim::bad_request(scim_type::INVALID_VALUE, format!("{name} must be a whole number, not '{v}'."))
        }),
    };
    Ok((number("startIndex", 1)?.max(1), number("count", discovery::MAX_RESULTS)?.clamp(0, discovery::MAX_RESULTS)))
}

/// One resource, with its ETag (and Location when created).
fn resource(status: u16, body: Value, projection: &Projection) -> Response {
    let version = body["meta"]["version"].as_str().unwrap_or("").to_owned();
    let location = body["meta"]["location"].as_str().unwrap_or("").to_owned();
    let mut answer = response(status, &projection.apply(body)).with_additional_header("ETag", version);
    if status == 201 {
        answer = answer.with_additional_header("Location", location);
    }
    answer
}

fn get_service_provider_config(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    Ok(response(200, &discovery::service_provider_config(base(ctx))))
}

fn get_resource_types(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let types = discovery::resource_types(base(ctx));
    Ok(response(200, &render::list(types.len() as i64, 1, types)))
}

fn get_schemas(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let schemas = discovery::schemas(base(ctx));
    Ok(response(200, &render::list(schemas.len() as i64, 1, schemas)))
}

fn get_users(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let conditions = match ctx.query_param("filter") {
        Some(text) => parse::user_filter(&text)?,
        None => Vec::new(),
    };
    let (start, count) = paging(ctx)?;
    let projection = projection(ctx)?;
    let (total, users) = scim::list_users(&ctx.env.db, &conditions, start, count)?;
    let resources = users.iter().map(|u| projection.apply(render::user(base(ctx), u))).collect();
    Ok(response(200, &render::list(total, start, resources)))
}

fn post_users(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let input = parse::user_input(&ctx.json_body()?)?;
    let settings = settings(ctx);
    let user = scim::create_user(&ctx.env.db, input, settings, ctx.now)?;
    Ok(resource(201, render::user(base(ctx), &user), &projection(ctx)?))
}

fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let user = scim::get_user(&ctx.env.db, ctx.param("id"))?;
    Ok(resource(200, render::user(base(ctx), &user), &projection(ctx)?))
}

fn put_user(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let input = parse::user_input(&ctx.json_body()?)?;
    let (settings, if_match) = (settings(ctx), ctx.req.header("If-Match"));
    let user = scim::replace_user(&ctx.env.db, ctx.param("id"), input, if_match, settings, ctx.now)?;
    Ok(resource(200, render::user(base(ctx), &user), &projection(ctx)?))
}

fn patch_user(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let changes = parse::user_changes(&ctx.json_body()?)?;
    let (settings, if_match) = (settings(ctx), ctx.req.header("If-Match"));
    let user = scim::patch_user(&ctx.env.db, ctx.param("id"), changes, if_match, settings, ctx.now)?;
    Ok(resource(200, render::user(base(ctx), &user), &projection(ctx)?))
}

fn delete_user(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let if_match = ctx.req.header("If-Match");
    scim::delete_user(&ctx.env.db, ctx.param("id"), if_match, ctx.now)?;
    Ok(Response::empty_204())
}

fn get_groups(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let conditions = match ctx.query_param("filter") {
        Some(text) => parse::group_filter(&text)?,
        None => Vec::new(),
    };
    let (start, count) = paging(ctx)?;
    let projection = projection(ctx)?;
    let (total, groups) = scim_groups::list_groups(&ctx.env.db, &conditions, start, count)?;
    let resources = groups.iter().map(|g| projection.apply(render::group(base(ctx), g))).collect();
    Ok(response(200, &render::list(total, start, resources)))
}

fn post_groups(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = actor_name(&token(ctx)?);
    let input = parse::group_input(&ctx.json_body()?)?;
    let group = scim_groups::create_group(&ctx.env.db, input, Actor(&actor), ctx.now)?;
    Ok(resource(201, render::group(base(ctx), &group), &projection(ctx)?))
}

fn get_group(ctx: &mut Ctx) -> Result<Response, Error> {
    token(ctx)?;
    let group = scim_groups::get_group(&ctx.env.db, ctx.param("id"))?;
    Ok(resource(200, render::group(base(ctx), &group), &projection(ctx)?))
}

fn put_group(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = actor_name(&token(ctx)?);
    let input = parse::group_input(&ctx.json_body()?)?;
    let if_match = ctx.req.header("If-Match");
    let group = scim_groups::replace_group(&ctx.env.db, ctx.param("id"), input, if_match, Actor(&actor), ctx.now)?;
    Ok(resource(200, render::group(base(ctx), &group), &projection(ctx)?))
}

fn patch_group(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = actor_name(&token(ctx)?);
    let changes = parse::group_changes(&ctx.json_body()?)?;
    let if_match = ctx.req.header("If-Match");
    let group = scim_groups::patch_group(&ctx.env.db, ctx.param("id"), changes, if_match, Actor(&actor), ctx.now)?;
    Ok(resource(200, render::group(base(ctx), &group), &projection(ctx)?))
}

fn delete_group(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = actor_name(&token(ctx)?);
    let if_match = ctx.req.header("If-Match");
    scim_groups::delete_group(&ctx.env.db, ctx.param("id"), if_match, Actor(&actor), ctx.now)?;
    Ok(Response::empty_204())
}

/// The OpenAPI schemas of SCIM's bodies (`api/docs/schemas.rs` merges them in).
pub fn openapi_schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let meta = json!({"type": "object", "properties": {"resourceType": s("string"), "created": s("string"),
        "lastModified": s("string"), "location": s("string"), "version": s("string")}});
    let schemas = json!({"type": "array", "items": s("string")});
    json!({
        "ScimUser": {"type": "object", "description": "urn:ietf:params:scim:schemas:core:2.0:User; other attributes and extension schemas are accepted and ignored",
            "required": ["userName"], "properties": {
            "schemas": schemas, "id": {"type": "string", "readOnly": true}, "externalId": s("string"), "userName": s("string"),
            "name": {"type": "object", "properties": {"formatted": s("string"), "givenName": s("string"), "familyName": s("string")}},
            "displayName": s("string"),
            "emails": {"type": "array", "items": {"type": "object", "properties": {"value": s("string"), "type": s("string"), "primary": s("boolean")}}},
            "active": {"type": ["boolean", "string"], "description": "also Entra's \"True\"/\"False\""}, "meta": meta}},
        "ScimGroup": {"type": "object", "required": ["displayName"], "properties": {
            "schemas": schemas, "id": {"type": "string", "readOnly": true}, "externalId": s("string"), "displayName": s("string"),
            "members": {"type": "array", "description": "each member also has $ref, its User's URI", "items": {"type": "object", "required": ["value"], "properties": {"value": s("string"), "display": s("string")}}},
            "meta": meta}},
        "ScimPatchOp": {"type": "object", "required": ["Operations"], "properties": {"schemas": schemas,
            "Operations": {"type": "array", "items": {"type": "object", "required": ["op"], "properties": {
                "op": {"type": "string", "description": "add, replace or remove (any case)"}, "path": s("string"), "value": {}}}}}},
        "ScimListResponse": {"type": "object", "required": ["schemas", "totalResults", "Resources"], "properties": {
            "schemas": schemas, "totalResults": s("integer"), "startIndex": s("integer"), "itemsPerPage": s("integer"),
            "Resources": {"type": "array", "items": s("object")}}},
        "ScimServiceProviderConfig": {"type": "object", "required": ["schemas", "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"],
            "properties": {"schemas": schemas, "patch": s("object"), "bulk": s("object"), "filter": s("object"),
            "changePassword": s("object"), "sort": s("object"), "etag": s("object"), "authenticationSchemes": {"type": "array",
                "items": {"type": "object", "properties": {"type": s("string"), "name": s("string"), "description": s("string"), "primary": s("boolean")}}}}},
        "ScimTokenInput": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"}}},
        "ScimToken": {"type": "object", "properties": {"id": s("integer"), "name": s("string"), "created": s("string")}},
        "ScimTokenCreated": {"type": "object", "properties": {"id": s("integer"), "name": s("string"), "created": s("string"),
            "token": {"type": "string", "description": "Shown once: Entra ID's Secret Token, Okta's API token"}}},
        "ScimTokenList": {"type": "object", "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/ScimToken"}}}},
        "ScimGroupLinkInput": {"type": "object", "required": ["course_key"], "properties": {"course_key": s("string"),
            "mode": {"type": ["string", "null"], "description": "the course's default mode when left out"}}},
        "ScimGroupLinks": {"type": "object", "properties": {"id": s("string"), "display_name": s("string"), "external_id": {"type": ["string", "null"]},
            "members": s("integer"), "courses": {"type": "array", "items": {"type": "object", "properties": {
                "course_key": s("string"), "mode": {"type": ["string", "null"]}, "created": s("string"),
                "enrolled": {"type": "integer", "description": "members the link enrolled"},
                "already_enrolled": {"type": "integer", "description": "members enrolled otherwise before"},
                "refused": {"type": "array", "description": "members the enrollment rules refused (a full course)", "items": {"type": "object", "properties": {
                    "username": s("string"), "detail": {"type": ["string", "null"]}, "at": s("string")}}}}}}}},
        "ScimGroupLinksList": {"type": "object", "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/ScimGroupLinks"}}}},
        "ScimError": {"type": "object", "required": ["schemas", "status"], "properties": {"schemas": schemas,
            "status": {"type": "string", "description": "the HTTP status, as a string"},
            "scimType": {"type": "string", "enum": ["invalidFilter", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget", "invalidValue", "invalidVers", "tooMany", "sensitive"]},
            "detail": s("string")}},
    })
}
