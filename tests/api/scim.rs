//! `/scim/v2/…`: the request sequences Microsoft Entra ID and Okta document for their SCIM
//! provisioning (create, find by userName, patch, deactivate, groups and their members,
//! delete), groups linked to courses, the discovery documents, tokens, and bad input.

use crate::helpers::{Reply, TestApp};
use serde_json::{json, Value};

const KEY: &str = "course-v1:Rollcall+SCIM-101+2026";

/// A SCIM token made through the admin API.
fn scim_token(app: &TestApp, admin: &str) -> String {
    let reply = app.send_json("POST", "/api/admin/v1/scim-tokens", Some(admin), &json!({"name": "Entra ID"}));
    assert_eq!(reply.status, 201, "{}", reply.text);
    format!("Bearer {}", reply.json()["token"].as_str().unwrap())
}

fn scim(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
    let headers = [("Authorization", token), ("Accept", "application/scim+json")];
    let text = body.map(|b| b.to_string());
    app.request(method, path, &headers, text.as_deref().map(|t| ("application/scim+json", t)))
}

fn created_id(reply: &Reply) -> String {
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// Asserts a SCIM error: its status (also as the body's string), scimType and media type.
fn assert_scim_error(reply: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert!(reply.header("Content-Type").unwrap_or("").starts_with("application/scim+json"), "{:?}", reply.headers);
    let body = reply.json();
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(body["status"], json!(status.to_string()));
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
}

fn filter(expression: &str) -> String {
    crate::helpers::encode(expression)
}

/// Microsoft Entra ID's documented requests ("Develop and plan provisioning for a SCIM
/// endpoint"), with a userName Rollcall's username rules accept.
fn entra_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "department": "Tour Operations"}
    })
}

#[test]
fn an_entra_id_cycle_creates_finds_patches_disables_and_deletes_a_user() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";

    // Entra first looks the user up, then creates them.
    let none = scim(
        &app,
        "GET",
        &format!("/scim/v2/Users?filter={}", filter(&format!("userName eq \"{user_name}\""))),
        &token,
        None,
    );
    assert_eq!(none.status, 200, "{}", none.text);
    assert_eq!(none.json()["totalResults"], 0);
    assert_eq!(none.json()["Resources"], json!([]));
    let created = scim(&app, "POST", "/scim/v2/Users", &token, Some(entra_user()));
    let id = created_id(&created);
    let user = created.json();
    assert_eq!(user["userName"], user_name);
    assert_eq!(user["active"], true);
    assert_eq!(user["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(user["name"]["givenName"], "givenName");
    assert_eq!(user["emails"][0]["value"], "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(user["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(created.header("Location"), user["meta"]["location"].as_str());
    assert!(user["meta"]["version"].as_str().unwrap().starts_with("W/\""));
    // The account exists for every other surface.
    let account = app.get(&format!("/api/admin/v1/users/{user_name}"), Some(&admin)).json();
    assert_eq!((account["first_name"].as_str(), account["is_active"].as_bool()), (Some("givenName"), Some(true)));
    // A second create is a uniqueness conflict.
    assert_scim_error(&scim(&app, "POST", "/scim/v2/Users", &token, Some(entra_user())), 409, Some("uniqueness"));

    // Found by userName (case-insensitively), externalId and the work email.
    for expression in [
        format!("userName eq \"{}\"", user_name.to_uppercase()),
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"".to_owned(),
        "emails[type eq \"work\"].value eq \"test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com\"".to_owned(),
        format!("userName eq \"{user_name}\" and externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\""),
    ] {
        let found = scim(&app, "GET", &format!("/scim/v2/Users?filter={}", filter(&expression)), &token, None).json();
        assert_eq!(found["totalResults"], 1, "{expression}: {found}");
        assert_eq!(found["Resources"][0]["id"], json!(id));
        assert_eq!(found["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    }

    // Update User [Multi-valued properties], with Entra's capitalised ops.
    let path = format!("/scim/v2/Users/{id}");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]});
    let patched = scim(&app, "PATCH", &path, &token, Some(patch));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(patched.json()["name"]["familyName"], "updatedFamilyName");
    assert_eq!(patched.json()["name"]["givenName"], "givenName", "what is not patched stays");
    // Update User [Single-valued properties]: a userName replace is refused unless allowed.
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59"}]});
    assert_scim_error(&scim(&app, "PATCH", &path, &token, Some(rename)), 400, Some("mutability"));

    // The user signs in somewhere; disabling them (Entra's "False" string) ends that.
    let client =
        app.send_json("POST", "/api/admin/v1/oauth-clients", Some(&admin), &json!({"name": "lms", "user": user_name}));
    let client = client.json();
    let issued =
        app.token_for(client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap(), "bearer");
    let bearer = format!("Bearer {}", issued.json()["access_token"].as_str().unwrap());
    assert_eq!(app.get("/api/user/v1/me", Some(&bearer)).status, 200);
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let disabled = scim(&app, "PATCH", &path, &token, Some(disable));
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(disabled.json()["active"], false);
    assert_eq!(app.get("/api/user/v1/me", Some(&bearer)).status, 401, "the token ended with the deactivation");
    let still_there = scim(
        &app,
        "GET",
        &format!("/scim/v2/Users?filter={}", filter(&format!("userName eq \"{user_name}\""))),
        &token,
        None,
    );
    assert_eq!(still_there.json()["Resources"][0]["active"], false);

    // Delete User: deactivated, gone from SCIM, the account and its history kept.
    assert_eq!(scim(&app, "DELETE", &path, &token, None).status, 204);
    assert_scim_error(&scim(&app, "GET", &path, &token, None), 404, None);
    assert_scim_error(&scim(&app, "DELETE", &path, &token, None), 404, None);
    assert_eq!(app.get(&format!("/api/admin/v1/users/{user_name}"), Some(&admin)).json()["is_active"], false);
    // Provisioned again later: the same account comes back.
    let again = scim(&app, "POST", "/scim/v2/Users", &token, Some(entra_user()));
    assert_eq!(created_id(&again), id);
    assert_eq!(again.json()["active"], true);
}

#[test]
fn an_entra_id_group_cycle_creates_renames_adds_and_removes_members_and_deletes() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    let user = created_id(&scim(&app, "POST", "/scim/v2/Users", &token, Some(entra_user())));
    let group = json!({"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "meta": {"resourceType": "Group"},
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"]});
    let created = scim(&app, "POST", "/scim/v2/Groups", &token, Some(group));
    let id = created_id(&created);
    assert_eq!(created.json()["members"], json!([]));
    assert_eq!(created.json()["meta"]["resourceType"], "Group");
    let path = format!("/scim/v2/Groups/{id}");
    let got = scim(&app, "GET", &format!("{path}?excludedAttributes=members"), &token, None);
    assert_eq!(got.status, 200, "{}", got.text);
    assert!(got.json().get("members").is_none() && got.json()["displayName"] == "displayName");
    let found = scim(
        &app,
        "GET",
        &format!("/scim/v2/Groups?excludedAttributes=members&filter={}", filter("displayName eq \"displayName\"")),
        &token,
        None,
    )
    .json();
    assert_eq!((found["totalResults"].as_i64(), found["Resources"][0]["id"].as_str()), (Some(1), Some(id.as_str())));

    let op = |op: &str, path: &str, value: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": op, "path": path, "value": value}]});
    let renamed = scim(
        &app,
        "PATCH",
        &path,
        &token,
        Some(op("Replace", "displayName", json!("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"))),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json()["displayName"], "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    let added = scim(&app, "PATCH", &path, &token, Some(op("Add", "members", json!([{"$ref": null, "value": user}]))));
    assert_eq!(added.json()["members"][0]["value"], json!(user), "{}", added.text);
    // Entra's membership check: the group filtered by id and member.
    let check = format!(
        "/scim/v2/Groups?excludedAttributes=members&filter={}",
        filter(&format!("id eq \"{id}\" and members[value eq \"{user}\"]"))
    );
    assert_eq!(scim(&app, "GET", &check, &token, None).json()["totalResults"], 1);
    let removed =
        scim(&app, "PATCH", &path, &token, Some(op("Remove", "members", json!([{"$ref": null, "value": user}]))));
    assert_eq!(removed.json()["members"], json!([]), "{}", removed.text);
    assert_eq!(scim(&app, "GET", &check, &token, None).json()["totalResults"], 0);
    assert_eq!(scim(&app, "DELETE", &path, &token, None).status, 204);
    assert_scim_error(&scim(&app, "GET", &path, &token, None), 404, None);
}

/// Okta's documented requests ("SCIM 2.0 protocol reference"), with a userName in Okta's
/// "username prefix" format (see the README on usernames).
#[test]
fn an_okta_cycle_with_put_pathless_patches_and_member_filters() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    let lookup = format!("/scim/v2/Users?filter={}&startIndex=1&count=100", filter("userName eq \"test.user\""));
    let empty = scim(&app, "GET", &lookup, &token, None).json();
    assert_eq!((empty["totalResults"].as_i64(), empty["startIndex"].as_i64()), (Some(0), Some(1)));
    let okta_user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "test.user",
        "name": {"givenName": "Test", "familyName": "User"}, "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": [], "password": "1mz050nq", "active": true});
    let id = created_id(&scim(&app, "POST", "/scim/v2/Users", &token, Some(okta_user.clone())));
    let path = format!("/scim/v2/Users/{id}");
    let got = scim(&app, "GET", &path, &token, None);
    assert_eq!(got.json()["displayName"], "Test User");
    assert_eq!(got.header("ETag"), got.json()["meta"]["version"].as_str());
    // PUT: the whole user again, changed.
    let mut replacement = okta_user.clone();
    replacement["id"] = json!(id);
    replacement["name"] = json!({"givenName": "Another", "familyName": "User"});
    let put = scim(&app, "PUT", &path, &token, Some(replacement));
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.json()["name"]["givenName"], "Another");
    // A stale If-Match is refused; the current one is honoured.
    let stale = got.header("ETag").unwrap().to_owned();
    let current = put.header("ETag").unwrap().to_owned();
    assert_ne!(stale, current);
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let text = deactivate.to_string();
    let with_version = |v: &str| {
        app.request(
            "PATCH",
            &path,
            &[("Authorization", &token), ("If-Match", v)],
            Some(("application/scim+json", &text)),
        )
    };
    assert_scim_error(&with_version(&stale), 412, Some("invalidVers"));
    let done = with_version(&current);
    assert_eq!((done.status, done.json()["active"].as_bool()), (200, Some(false)), "{}", done.text);

    // Groups, Okta's way.
    let member = created_id(&scim(
        &app,
        "POST",
        "/scim/v2/Users",
        &token,
        Some(json!({"userName": "second.user", "emails": [{"value": "second@okta.local"}]})),
    ));
    let group = scim(
        &app,
        "POST",
        "/scim/v2/Groups",
        &token,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}),
        ),
    );
    let group_id = created_id(&group);
    let group_path = format!("/scim/v2/Groups/{group_id}");
    let listed = scim(&app, "GET", "/scim/v2/Groups?startIndex=1&count=100", &token, None).json();
    assert_eq!(listed["totalResults"], 1);
    let put = scim(
        &app,
        "PUT",
        &group_path,
        &token,
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": group_id,
        "displayName": "Test SCIMv2", "members": [{"value": id, "display": "test.user"}, {"value": member, "display": "second.user"}]})),
    );
    assert_eq!(put.json()["members"].as_array().map(Vec::len), Some(2), "{}", put.text);
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"id": group_id, "displayName": "Test SCIMv2 renamed"}}]});
    assert_eq!(scim(&app, "PATCH", &group_path, &token, Some(rename)).json()["displayName"], "Test SCIMv2 renamed");
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
    let after = scim(&app, "PATCH", &group_path, &token, Some(remove)).json();
    assert_eq!(
        after["members"],
        json!([{"value": member, "display": "second.user", "$ref": format!("{}/scim/v2/Users/{member}", app.base)}])
    );
    assert_eq!(scim(&app, "DELETE", &group_path, &token, None).status, 204);
}

#[test]
fn a_group_linked_to_a_course_enrolls_and_unenrolls_its_members_with_history() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    app.create_course(&admin, KEY, json!({"max_enrollments": 2}));
    let user = |name: &str| {
        created_id(&scim(
            &app,
            "POST",
            "/scim/v2/Users",
            &token,
            Some(json!({"userName": name, "emails": [{"value": format!("{name}@school.example")}]})),
        ))
    };
    let (ann, bob, cat) = (user("ann"), user("bob"), user("cat"));
    // cat was enrolled by staff before SCIM: the group must never undo that.
    let enroll = app.send_json(
        "POST",
        &format!("/api/enrollment/v2/courses/{KEY}/enrollments"),
        Some(&admin),
        &json!({"identifiers": ["cat"]}),
    );
    assert_eq!(enroll.status, 200, "{}", enroll.text);
    let group = created_id(&scim(
        &app,
        "POST",
        "/scim/v2/Groups",
        &token,
        Some(json!({"displayName": "Year 9", "members": [{"value": cat}]})),
    ));
    let linked = app.send_json(
        "POST",
        &format!("/api/admin/v1/scim-groups/{group}/courses"),
        Some(&admin),
        &json!({"course_key": KEY}),
    );
    assert_eq!(linked.status, 201, "{}", linked.text);
    assert_eq!(linked.json()["courses"][0]["already_enrolled"], 1);

    let members = |op: &str, ids: &[&str]| {
        let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": op, "path": "members", "value": value}]});
        scim(&app, "PATCH", &format!("/scim/v2/Groups/{group}"), &token, Some(body))
    };
    let added = members("Add", &[&ann, &bob]);
    assert_eq!(added.status, 200, "{}", added.text);
    assert_eq!(added.json()["members"].as_array().map(Vec::len), Some(3));
    let enrollment =
        |name: &str| app.get(&format!("/api/enrollment/v2/courses/{KEY}/enrollments/{name}"), Some(&admin)).json();
    assert_eq!(enrollment("ann")["is_active"], true, "{}", enrollment("ann"));
    // The course holds 2: bob is a member all the same, and the link says why he is not enrolled.
    assert_ne!(enrollment("bob")["is_active"], true);
    let links = app.get("/api/admin/v1/scim-groups", Some(&admin)).json();
    let link = &links["results"][0]["courses"][0];
    assert_eq!((link["course_key"].as_str(), link["enrolled"].as_i64()), (Some(KEY), Some(1)), "{links}");
    assert_eq!(link["refused"][0]["username"], "bob");
    assert!(link["refused"][0]["detail"].as_str().unwrap().contains("full"), "{link}");
    // The history names SCIM.
    let history = app.get(&format!("/api/admin/v1/courses/{KEY}/history?username=ann"), Some(&admin)).json();
    let entry = &history["results"][0];
    assert_eq!(
        (entry["surface"].as_str(), entry["source"].as_str(), entry["actor"].as_str()),
        (Some("scim"), Some("scim_group"), Some("scim:Entra ID")),
        "{history}"
    );
    assert_eq!(entry["reason"], "SCIM group Year 9");

    // Leaving the group unenrolls ann; cat, enrolled before, stays when the group goes.
    let removed = members("Remove", &[&ann]);
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(enrollment("ann")["is_active"], false);
    let history = app.get(&format!("/api/admin/v1/courses/{KEY}/history?username=ann"), Some(&admin)).json();
    assert_eq!(
        (history["results"][0]["surface"].as_str(), history["results"][0]["after"]["enrollment"].as_bool()),
        (Some("scim"), Some(false))
    );
    // A seat is free now: linking again retries bob.
    let relinked = app.send_json(
        "POST",
        &format!("/api/admin/v1/scim-groups/{group}/courses"),
        Some(&admin),
        &json!({"course_key": KEY}),
    );
    assert_eq!(relinked.json()["courses"][0]["refused"], json!([]), "{}", relinked.text);
    assert_eq!(enrollment("bob")["is_active"], true);
    assert_eq!(scim(&app, "DELETE", &format!("/scim/v2/Groups/{group}"), &token, None).status, 204);
    assert_eq!(enrollment("bob")["is_active"], false, "the group's enrollment ends with it");
    assert_eq!(enrollment("cat")["is_active"], true, "an enrollment the group did not make stays");

    // Unlinking ends the link's enrollments; a missing link or group is a 404.
    let second = created_id(&scim(
        &app,
        "POST",
        "/scim/v2/Groups",
        &token,
        Some(json!({"displayName": "Year 10", "members": [{"value": ann}]})),
    ));
    let url = format!("/api/admin/v1/scim-groups/{second}/courses");
    assert_eq!(app.send_json("POST", &url, Some(&admin), &json!({"course_key": KEY})).status, 201);
    assert_eq!(enrollment("ann")["is_active"], true);
    assert_eq!(app.request("DELETE", &format!("{url}/{KEY}"), &[("Authorization", &admin)], None).status, 204);
    assert_eq!(enrollment("ann")["is_active"], false);
    assert_eq!(app.request("DELETE", &format!("{url}/{KEY}"), &[("Authorization", &admin)], None).status, 404);
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/scim-groups/999/courses", Some(&admin), &json!({"course_key": KEY}))
            .status,
        404
    );
    let bad_mode = app.send_json("POST", &url, Some(&admin), &json!({"course_key": KEY, "mode": "verified"}));
    assert_eq!(bad_mode.status, 400, "{}", bad_mode.text);
}

#[test]
fn the_discovery_documents_follow_rfc_7643() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    let config = scim(&app, "GET", "/scim/v2/ServiceProviderConfig", &token, None);
    assert_eq!(config.status, 200);
    assert!(config.header("Content-Type").unwrap().starts_with("application/scim+json"));
    let config = config.json();
    assert_eq!(config["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]));
    for (feature, supported) in
        [("patch", true), ("filter", true), ("etag", true), ("bulk", false), ("sort", false), ("changePassword", false)]
    {
        assert_eq!(config[feature]["supported"], supported, "{feature}");
    }
    assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(config["filter"]["maxResults"].as_i64().unwrap() > 0);

    let types = scim(&app, "GET", "/scim/v2/ResourceTypes", &token, None).json();
    assert_eq!(types["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    assert_eq!(types["totalResults"], 2);
    for resource_type in types["Resources"].as_array().unwrap() {
        for key in ["id", "name", "endpoint", "schema"] {
            assert!(resource_type[key].is_string(), "{key}: {resource_type}");
        }
        assert_eq!(resource_type["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]));
    }
    let schemas = scim(&app, "GET", "/scim/v2/Schemas", &token, None).json();
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"]);
    // Every attribute definition carries RFC 7643 §7's characteristics.
    fn check(attribute: &Value) {
        assert!(attribute["name"].is_string() && attribute["type"].is_string(), "{attribute}");
        for flag in ["multiValued", "required", "caseExact"] {
            assert!(attribute[flag].is_boolean(), "{flag}: {attribute}");
        }
        for text in ["mutability", "returned", "uniqueness"] {
            assert!(attribute[text].is_string(), "{text}: {attribute}");
        }
        attribute["subAttributes"].as_array().into_iter().flatten().for_each(check);
    }
    for schema in schemas["Resources"].as_array().unwrap() {
        schema["attributes"].as_array().unwrap().iter().for_each(check);
    }
    let user_schema = &schemas["Resources"][0]["attributes"];
    assert!(user_schema
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "userName" && a["required"] == true && a["uniqueness"] == "server"));
}

#[test]
fn only_scim_tokens_open_scim_and_they_open_nothing_else() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    for credential in [None, Some(admin.as_str()), Some("Bearer rcscim_not-a-token"), Some("Basic YWRtaW46cGFzcw==")] {
        let headers: Vec<(&str, &str)> = credential.map(|c| vec![("Authorization", c)]).unwrap_or_default();
        let reply = app.request("GET", "/scim/v2/Users", &headers, None);
        assert_scim_error(&reply, 401, None);
        assert!(reply.header("WWW-Authenticate").is_some());
    }
    assert_eq!(app.get("/api/admin/v1/users", Some(&token)).status, 401);
    assert_eq!(app.get("/api/user/v1/me", Some(&token)).status, 401);
    // Superusers are invisible to SCIM.
    let found =
        scim(&app, "GET", &format!("/scim/v2/Users?filter={}", filter("userName eq \"admin\"")), &token, None).json();
    assert_eq!(found["totalResults"], 0);
    let admin_id = app.get("/api/admin/v1/users/admin", Some(&admin)).json()["id"].to_string();
    assert_scim_error(&scim(&app, "GET", &format!("/scim/v2/Users/{admin_id}"), &token, None), 404, None);
    assert_eq!(scim(&app, "DELETE", &format!("/scim/v2/Users/{admin_id}"), &token, None).status, 404);
    // Tokens are listed without their secret, only superusers manage them, and revoking one ends it.
    let list = app.get("/api/admin/v1/scim-tokens", Some(&admin));
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(token.trim_start_matches("Bearer ")));
    let staff = app.user_auth(&admin, "stafford", true);
    assert_eq!(app.get("/api/admin/v1/scim-tokens", Some(&staff)).status, 403);
    assert_eq!(app.send_json("POST", "/api/admin/v1/scim-tokens", Some(&staff), &json!({"name": "x"})).status, 403);
    let id = list.json()["results"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.request("DELETE", &format!("/api/admin/v1/scim-tokens/{id}"), &[("Authorization", &admin)], None).status,
        204
    );
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Users", &token, None), 401, None);
    // The command line makes tokens too.
    let output = crate::helpers::binary()
        .args(["create-scim-token", "--db"])
        .arg(app.dir.db())
        .args(["--name", "Okta", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let made: Value = serde_json::from_slice(&output.stdout).unwrap();
    let cli_token = format!("Bearer {}", made["token"].as_str().unwrap());
    assert_eq!(scim(&app, "GET", "/scim/v2/ServiceProviderConfig", &cli_token, None).status, 200);
}

#[test]
fn bad_filters_and_patches_are_scim_errors_that_write_nothing() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    let id = created_id(&scim(
        &app,
        "POST",
        "/scim/v2/Users",
        &token,
        Some(json!({"userName": "dana", "name": {"givenName": "Dana"}, "emails": [{"value": "dana@school.example"}]})),
    ));
    let path = format!("/scim/v2/Users/{id}");
    let version = scim(&app, "GET", &path, &token, None).json()["meta"]["version"].clone();
    for expression in [
        "userName eq",
        "userName xx \"a\"",
        "userName eq \"a\" or userName eq \"b\"",
        "(userName eq \"a\"",
        "nickName eq \"a\"",
        "userName eq \"unterminated",
    ] {
        let reply = scim(&app, "GET", &format!("/scim/v2/Users?filter={}", filter(expression)), &token, None);
        assert_scim_error(&reply, 400, Some("invalidFilter"));
    }
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Users?startIndex=first", &token, None), 400, Some("invalidValue"));
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    for (body, scim_type) in [
        (json!({"nothing": true}), "invalidSyntax"),
        (patch(json!([{"op": "move", "path": "active", "value": true}])), "invalidSyntax"),
        (patch(json!([{"op": "remove"}])), "noTarget"),
        (patch(json!([{"op": "replace", "path": "emails[type eq", "value": "x"}])), "invalidPath"),
        (patch(json!([{"op": "replace", "path": "active", "value": "maybe"}])), "invalidValue"),
        // The first change is valid; the second is not: neither is written.
        (
            patch(
                json!([{"op": "replace", "path": "name.givenName", "value": "Changed"}, {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not an email"}]),
            ),
            "invalidValue",
        ),
        (
            patch(
                json!([{"op": "replace", "path": "name.givenName", "value": "Changed"}, {"op": "remove", "path": "userName"}]),
            ),
            "mutability",
        ),
    ] {
        assert_scim_error(&scim(&app, "PATCH", &path, &token, Some(body.clone())), 400, Some(scim_type));
    }
    let malformed = app.request(
        "PATCH",
        &path,
        &[("Authorization", &token)],
        Some(("application/scim+json", "{\"Operations\": [")),
    );
    assert_scim_error(&malformed, 400, Some("invalidSyntax"));
    let unchanged = scim(&app, "GET", &path, &token, None).json();
    assert_eq!((&unchanged["meta"]["version"], unchanged["name"]["givenName"].as_str()), (&version, Some("Dana")));
    // Bad resources and unknown members.
    assert_scim_error(
        &scim(&app, "POST", "/scim/v2/Users", &token, Some(json!({"userName": "no email"}))),
        400,
        Some("invalidValue"),
    );
    assert_scim_error(
        &scim(&app, "POST", "/scim/v2/Users", &token, Some(json!({"userName": "erin"}))),
        400,
        Some("invalidValue"),
    );
    // An email-shaped userName (Entra's default UPN) is refused: new usernames have no @.
    let upn = json!({"userName": "erin@school.example", "emails": [{"value": "erin@school.example"}]});
    assert_scim_error(&scim(&app, "POST", "/scim/v2/Users", &token, Some(upn)), 400, Some("invalidValue"));
    // A look-alike of an existing username is a uniqueness conflict.
    let look_alike = json!({"userName": "DANA", "emails": [{"value": "dana2@school.example"}]});
    assert_scim_error(&scim(&app, "POST", "/scim/v2/Users", &token, Some(look_alike)), 409, Some("uniqueness"));
    assert_scim_error(
        &scim(&app, "POST", "/scim/v2/Groups", &token, Some(json!({"displayName": ""}))),
        400,
        Some("invalidValue"),
    );
    assert_scim_error(
        &scim(
            &app,
            "POST",
            "/scim/v2/Groups",
            &token,
            Some(json!({"displayName": "G", "members": [{"value": "424242"}]})),
        ),
        400,
        Some("invalidValue"),
    );
    let groups = scim(&app, "GET", "/scim/v2/Groups", &token, None).json();
    assert_eq!(groups["totalResults"], 0, "a refused group is not half-made: {groups}");
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Users/not-a-number", &token, None), 404, None);
    assert_scim_error(&scim(&app, "GET", "/scim/v2/Nope", &token, None), 404, None);
}

#[test]
fn paging_and_attribute_selection_follow_rfc_7644() {
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_SCIM_ALLOW_USERNAME_CHANGE", "true")],
        &[],
    );
    let admin = app.admin_auth();
    let token = scim_token(&app, &admin);
    for name in ["p1", "p2", "p3"] {
        created_id(&scim(
            &app,
            "POST",
            "/scim/v2/Users",
            &token,
            Some(
                json!({"userName": name, "emails": [{"value": format!("{name}@school.example")}], "name": {"givenName": name, "familyName": "Page"}}),
            ),
        ));
    }
    let page =
        scim(&app, "GET", "/scim/v2/Users?startIndex=2&count=1&attributes=userName,name.givenName", &token, None)
            .json();
    assert_eq!(
        (page["totalResults"].as_i64(), page["startIndex"].as_i64(), page["itemsPerPage"].as_i64()),
        (Some(3), Some(2), Some(1))
    );
    let user = &page["Resources"][0];
    assert_eq!(user["userName"], "p2");
    assert_eq!(user["name"], json!({"givenName": "p2"}));
    assert!(user["id"].is_string() && user.get("emails").is_none() && user.get("meta").is_none(), "{user}");
    let trimmed =
        scim(&app, "GET", "/scim/v2/Users?excludedAttributes=emails,name.familyName&count=0", &token, None).json();
    assert_eq!((trimmed["totalResults"].as_i64(), trimmed["Resources"].as_array().map(Vec::len)), (Some(3), Some(0)));
    let all = scim(&app, "GET", "/scim/v2/Users?excludedAttributes=emails,name.familyName", &token, None).json();
    assert!(all["Resources"][0].get("emails").is_none() && all["Resources"][0]["name"]["familyName"].is_null());
    // With scim.allow_username_change, a rename goes through; a taken name is a conflict.
    let id = all["Resources"][0]["id"].as_str().unwrap().to_owned();
    let rename = |to: &str| {
        let body = json!({"Operations": [{"op": "replace", "path": "userName", "value": to}]});
        scim(&app, "PATCH", &format!("/scim/v2/Users/{id}"), &token, Some(body))
    };
    assert_eq!(rename("p1-renamed").json()["userName"], "p1-renamed");
    assert_eq!(app.get("/api/admin/v1/users/p1-renamed", Some(&admin)).status, 200);
    assert_scim_error(&rename("p2"), 409, Some("uniqueness"));
}
