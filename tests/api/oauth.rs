//! `/oauth2/access_token`, `/oauth2/revoke_token`, `Authorization: JWT|Bearer`,
//! `X-Edx-Api-Key`, sessions with CSRF, login rate limits and password upgrades.

use crate::helpers::TestApp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};

const SECRET: &str = "test-signing-secret";

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(header: &Value, claims: &Value, secret: &str) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[test]
fn client_credentials_give_a_jwt_with_open_edx_claims() {
    let app = TestApp::spawn();
    let reply = app.token_for(&app.client_id, &app.client_secret, "jwt");
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["token_type"], "JWT");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read write email profile");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    for key in [
        "iss",
        "aud",
        "exp",
        "iat",
        "preferred_username",
        "email",
        "user_id",
        "administrator",
        "superuser",
        "scopes",
        "version",
        "filters",
        "is_restricted",
    ] {
        assert!(claims.get(key).is_some(), "missing claim {key}: {claims}");
    }
    assert_eq!(claims["version"], "1.2.0");
    assert_eq!(claims["preferred_username"], "admin");
    assert_eq!(claims["administrator"], true);
    assert_eq!(claims["iss"], format!("{}/oauth2", app.base));
    // Both header styles carry it.
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/admin/v1/courses", Some(&format!("JWT {token}"))).status, 200);
    assert_eq!(app.get("/api/admin/v1/courses", Some(&format!("Bearer {token}"))).status, 200);
}

#[test]
fn a_json_token_request_is_accepted_too() {
    let app = TestApp::spawn();
    let reply = app.send_json(
        "POST",
        "/oauth2/access_token",
        None,
        &json!({"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.client_secret, "token_type": "jwt"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["token_type"], "JWT");
}

#[test]
fn opaque_bearer_tokens_work_until_revoked_and_are_stored_hashed() {
    let app = TestApp::spawn();
    let reply = app.token_for(&app.client_id, &app.client_secret, "bearer");
    assert_eq!(reply.json()["token_type"], "Bearer");
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert!(!token.contains('.'));
    let auth = format!("Bearer {token}");
    assert_eq!(app.get("/api/admin/v1/courses", Some(&auth)).status, 200);
    let stored: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM access_tokens WHERE token_hash = ?1", [&token], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 0, "the raw token must not be stored");
    let revoke = app.post_form(
        "/oauth2/revoke_token",
        &[("token", &token), ("client_id", &app.client_id), ("client_secret", &app.client_secret)],
    );
    assert_eq!(revoke.status, 200, "{}", revoke.text);
    let after = app.get("/api/admin/v1/courses", Some(&auth));
    assert_eq!(after.status, 401);
    assert_eq!(after.json()["detail"], "Invalid token.");
}

#[test]
fn the_password_grant_issues_tokens_and_rejects_wrong_passwords() {
    let app = TestApp::spawn();
    let form = |password: &str| {
        app.post_form(
            "/oauth2/access_token",
            &[
                ("grant_type", "password"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("username", "admin"),
                ("password", password),
                ("token_type", "jwt"),
            ],
        )
    };
    let ok = form(&app.password);
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(claims_of(ok.json()["access_token"].as_str().unwrap())["grant_type"], "password");
    let wrong = form("not-the-password");
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["error"], "invalid_grant");
}

#[test]
fn wrong_clients_and_grants_get_oauth2_errors() {
    let app = TestApp::spawn();
    let wrong_secret = app.token_for(&app.client_id, "nope", "jwt");
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.json()["error"], "invalid_client");
    let unknown = app.token_for("no-such-client", &app.client_secret, "jwt");
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.json()["error"], "invalid_client");
    let grant = app.post_form(
        "/oauth2/access_token",
        &[("grant_type", "authorization_code"), ("client_id", &app.client_id), ("client_secret", &app.client_secret)],
    );
    assert_eq!(grant.status, 400);
    assert_eq!(grant.json()["error"], "unsupported_grant_type");
    let scope = app.post_form(
        "/oauth2/access_token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "read admin"),
        ],
    );
    assert_eq!(scope.json()["error"], "invalid_scope");
    let text = app.request("POST", "/oauth2/access_token", &[], Some(("text/plain", "hello")));
    assert_eq!(text.status, 415);
}

#[test]
fn missing_and_invalid_credentials_get_drf_401s() {
    let app = TestApp::spawn();
    let none = app.get("/api/admin/v1/courses", None);
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["detail"], "Authentication credentials were not provided.");
    assert!(none.header("WWW-Authenticate").is_some());
    for bad in ["JWT garbage", "JWT a.b.c", "Bearer unknown-opaque-token", "Bearer "] {
        let reply = app.get("/api/admin/v1/courses", Some(bad));
        assert_eq!(reply.status, 401, "{bad}");
        assert_eq!(reply.json()["detail"], "Invalid token.", "{bad}");
    }
}

#[test]
fn forged_expired_and_foreign_jwts_are_rejected() {
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_AUTH_JWT_SECRET", SECRET)], &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let good = json!({"iss": format!("{}/oauth2", app.base), "aud": "rollcall", "iat": now, "exp": now + 600,
        "preferred_username": "admin", "client_id": app.client_id, "version": "1.2.0"});
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let try_token = |token: String| app.get("/api/admin/v1/courses", Some(&format!("JWT {token}"))).status;
    assert_eq!(try_token(sign(&hs256, &good, SECRET)), 200, "a correctly signed token is accepted");
    assert_eq!(try_token(sign(&hs256, &good, "another-secret")), 401, "bad signature");
    assert_eq!(try_token(sign(&json!({"alg": "HS512", "typ": "JWT"}), &good, SECRET)), 401, "other algorithm");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    assert_eq!(try_token(unsigned), 401, "alg none");
    let mut expired = good.clone();
    expired["exp"] = json!(now - 60);
    assert_eq!(try_token(sign(&hs256, &expired, SECRET)), 401, "expired");
    let mut issuer = good.clone();
    issuer["iss"] = json!("https://elsewhere/oauth2");
    assert_eq!(try_token(sign(&hs256, &issuer, SECRET)), 401, "wrong issuer");
    let mut audience = good.clone();
    audience["aud"] = json!("someone-else");
    assert_eq!(try_token(sign(&hs256, &audience, SECRET)), 401, "wrong audience");
    let mut ghost = good.clone();
    ghost["preferred_username"] = json!("nobody");
    assert_eq!(try_token(sign(&hs256, &ghost, SECRET)), 401, "unknown user");
}

#[test]
fn tokens_of_deleted_clients_and_inactive_users_stop_working() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let staff = app.user_auth(&admin, "staffer", true);
    assert_eq!(app.get("/api/admin/v1/courses", Some(&staff)).status, 200);
    let deactivate = app.request("DELETE", "/api/admin/v1/users/staffer", &[("Authorization", &admin)], None);
    assert_eq!(deactivate.status, 200, "{}", deactivate.text);
    assert_eq!(app.get("/api/admin/v1/courses", Some(&staff)).status, 401);

    let client = app
        .send_json("POST", "/api/admin/v1/oauth-clients", Some(&admin), &json!({"name": "temp", "user": "admin"}))
        .json();
    let id = client["client_id"].as_str().unwrap();
    let token = app.token_for(id, client["client_secret"].as_str().unwrap(), "jwt").json();
    let auth = format!("JWT {}", token["access_token"].as_str().unwrap());
    let opaque = app.token_for(id, client["client_secret"].as_str().unwrap(), "bearer").json();
    let opaque_auth = format!("Bearer {}", opaque["access_token"].as_str().unwrap());
    assert_eq!(app.get("/api/admin/v1/courses", Some(&auth)).status, 200);
    assert_eq!(
        app.request("DELETE", &format!("/api/admin/v1/oauth-clients/{id}"), &[("Authorization", &admin)], None).status,
        204
    );
    assert_eq!(app.get("/api/admin/v1/courses", Some(&auth)).status, 401);
    assert_eq!(app.get("/api/admin/v1/courses", Some(&opaque_auth)).status, 401);
}

#[test]
fn the_api_key_header_authenticates_only_with_the_configured_key() {
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_AUTH_API_KEY", "s3cret-key")], &[]);
    let wrong = app.request("GET", "/api/admin/v1/courses", &[("X-Edx-Api-Key", "guess")], None);
    assert_eq!(wrong.status, 401);
    // The key is a server-to-server credential, not a staff user: the admin API refuses it.
    let right = app.request("GET", "/api/admin/v1/courses", &[("X-Edx-Api-Key", "s3cret-key")], None);
    assert_eq!(right.status, 403, "{}", right.text);
    let off = TestApp::spawn();
    assert_eq!(off.request("GET", "/api/admin/v1/courses", &[("X-Edx-Api-Key", "")], None).status, 401);
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[test]
fn sessions_use_http_only_cookies_and_require_csrf_for_unsafe_methods() {
    let app = TestApp::spawn();
    let login = app.send_json("POST", "/login", None, &json!({"username": "admin", "password": app.password}));
    assert_eq!(login.status, 200, "{}", login.text);
    let cookies = login.headers_named("Set-Cookie");
    let session = cookies.iter().find(|c| c.starts_with("rollcall_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let cookie = cookie_pair(session);
    let csrf = login.json()["csrf_token"].as_str().unwrap().to_owned();

    assert_eq!(app.request("GET", "/api/admin/v1/courses", &[("Cookie", &cookie)], None).status, 200);
    let body = json!({"course_key": "course-v1:Org+S1+2026", "title": "Session"}).to_string();
    let no_csrf =
        app.request("POST", "/api/admin/v1/courses", &[("Cookie", &cookie)], Some(("application/json", &body)));
    assert_eq!(no_csrf.status, 403);
    assert!(no_csrf.json()["developer_message"].as_str().unwrap().contains("CSRF"));
    let bad_csrf = app.request(
        "POST",
        "/api/admin/v1/courses",
        &[("Cookie", &cookie), ("X-CSRFToken", "wrong")],
        Some(("application/json", &body)),
    );
    assert_eq!(bad_csrf.status, 403);
    let with_csrf = app.request(
        "POST",
        "/api/admin/v1/courses",
        &[("Cookie", &cookie), ("X-CSRFToken", &csrf)],
        Some(("application/json", &body)),
    );
    assert_eq!(with_csrf.status, 201, "{}", with_csrf.text);

    let logout = app.request("POST", "/logout", &[("Cookie", &cookie), ("X-CSRFToken", &csrf)], None);
    assert_eq!(logout.status, 204, "{}", logout.text);
    assert_eq!(app.request("GET", "/api/admin/v1/courses", &[("Cookie", &cookie)], None).status, 401);
    let wrong = app.post_form("/login", &[("username", "admin"), ("password", "wrong-password")]);
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["detail"], "Invalid username or password.");
}

#[test]
fn login_attempts_are_rate_limited_per_account() {
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_LOGIN_PER_MINUTE", "3")], &[]);
    for _ in 0..3 {
        assert_eq!(app.post_form("/login", &[("username", "admin"), ("password", "wrong-password")]).status, 400);
    }
    let limited = app.post_form("/login", &[("username", "admin"), ("password", &app.password)]);
    assert_eq!(limited.status, 429);
    assert!(limited.header("Retry-After").is_some());
}

#[test]
fn django_pbkdf2_hashes_log_in_and_are_upgraded_to_argon2() {
    let app = TestApp::spawn();
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"edx-password", b"NaCl1234", 1000, &mut derived);
    let django = format!("pbkdf2_sha256$1000$NaCl1234${}", base64::engine::general_purpose::STANDARD.encode(derived));
    app.sqlite()
        .execute(
            "INSERT INTO users (username, email, password_hash, date_joined) VALUES ('imported', 'imported@example.org', ?1, 0)",
            [&django],
        )
        .unwrap();
    let login = app.post_form("/login", &[("username", "imported@example.org"), ("password", "edx-password")]);
    assert_eq!(login.status, 200, "{}", login.text);
    let stored: String = app
        .sqlite()
        .query_row("SELECT password_hash FROM users WHERE username = 'imported'", [], |r| r.get(0))
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(app.post_form("/login", &[("username", "imported"), ("password", "edx-password")]).status, 200);
}

#[test]
fn a_token_request_may_be_multipart_as_appsembler_s_test_plan_posts_it() {
    let app = TestApp::spawn();
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("token_type", "jwt"),
    ];
    let reply = app.send_multipart("/oauth2/access_token", None, &fields);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["token_type"], "JWT");
    let other = app.request("POST", "/oauth2/access_token", &[], Some(("text/plain", "grant_type=client_credentials")));
    assert_eq!(other.status, 415, "{}", other.text);
    let listed = app.send_json(
        "POST",
        "/oauth2/access_token",
        None,
        &serde_json::json!({"grant_type": "client_credentials", "client_id": [app.client_id], "client_secret": app.client_secret}),
    );
    assert_eq!((listed.status, listed.json()["error"].as_str()), (400, Some("invalid_request")), "{}", listed.text);
}

fn token(app: &TestApp, client_id: &str, secret: &str, kind: &str) -> String {
    let reply = app.token_for(client_id, secret, kind);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// A JWT, an opaque token and a browser session for `username` (password "password123").
fn credentials_of(app: &TestApp, admin: &str, username: &str) -> (String, String, String) {
    let body = serde_json::json!({"username": username, "email": format!("{username}@example.org"), "password": "password123"});
    assert_eq!(app.send_json("POST", "/api/admin/v1/users", Some(admin), &body).status, 201);
    let client = app
        .send_json(
            "POST",
            "/api/admin/v1/oauth-clients",
            Some(admin),
            &serde_json::json!({"name": username, "user": username}),
        )
        .json();
    let (id, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let jwt = format!("JWT {}", token(app, id, secret, "jwt"));
    let bearer = format!("Bearer {}", token(app, id, secret, "bearer"));
    let login = app.post_form("/login", &[("username", username), ("password", "password123")]);
    assert_eq!(login.status, 200);
    let cookies: Vec<String> = login.headers_named("set-cookie").iter().map(|c| cookie_pair(c)).collect();
    (jwt, bearer, cookies.join("; "))
}

fn works(app: &TestApp, authorization: &str) -> bool {
    app.get("/api/user/v1/me", Some(authorization)).status == 200
}

fn session_works(app: &TestApp, cookie: &str) -> bool {
    app.request("GET", "/api/user/v1/me", &[("Cookie", cookie)], None).status == 200
}

#[test]
fn a_password_change_ends_sessions_opaque_tokens_and_earlier_jwts() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let (jwt, bearer, cookie) = credentials_of(&app, &admin, "ann");
    assert!(works(&app, &jwt) && works(&app, &bearer) && session_works(&app, &cookie));
    // JWT times have one-second resolution: the change must fall in a later second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let changed = app.send_json(
        "PATCH",
        "/api/admin/v1/users/ann",
        Some(&admin),
        &serde_json::json!({"password": "a-new-password"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(!works(&app, &jwt), "a JWT issued before the change is refused");
    assert!(!works(&app, &bearer), "opaque tokens are deleted");
    assert!(!session_works(&app, &cookie), "sessions end");
    assert_eq!(app.post_form("/login", &[("username", "ann"), ("password", "a-new-password")]).status, 200);
    // Appsembler's connect changes passwords too, and deactivation ends credentials alike.
    let (jwt, bearer, _) = credentials_of(&app, &admin, "bob");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let connect = app.send_json(
        "POST",
        "/appsembler_api/v0/accounts/connect",
        Some(&admin),
        &serde_json::json!({"username": "bob", "password": "another-password"}),
    );
    assert_eq!(connect.status, 200, "{}", connect.text);
    assert!(!works(&app, &jwt) && !works(&app, &bearer));
    let (jwt, _, _) = credentials_of(&app, &admin, "cat");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(app.request("DELETE", "/api/admin/v1/users/cat", &[("Authorization", &admin)], None).status, 200);
    let back = app.send_json("PATCH", "/api/admin/v1/users/cat", Some(&admin), &serde_json::json!({"is_active": true}));
    assert_eq!(back.status, 200);
    assert!(!works(&app, &jwt), "reactivation does not revive a JWT from before the deactivation");
}

#[test]
fn revoking_a_jwt_says_jwts_cannot_be_revoked() {
    let app = TestApp::spawn();
    let jwt = token(&app, &app.client_id, &app.client_secret, "jwt");
    let reply = app.post_form(
        "/oauth2/revoke_token",
        &[("client_id", &app.client_id), ("client_secret", &app.client_secret), ("token", &jwt)],
    );
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json()["error"], "unsupported_token_type");
}

#[test]
fn global_staff_cannot_remove_a_client_acting_as_a_superuser() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let staff = app.user_auth(&admin, "registrar", true);
    let clients = app.get("/api/admin/v1/oauth-clients", Some(&admin)).json();
    let superuser_client = clients["results"].as_array().unwrap().iter().find(|c| c["user"] == "admin").unwrap()
        ["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/admin/v1/oauth-clients/{superuser_client}");
    let refused = app.request("DELETE", &path, &[("Authorization", &staff)], None);
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(works(&app, &admin), "the superuser's integration keeps working");
    assert_eq!(app.request("DELETE", &path, &[("Authorization", &admin)], None).status, 204);
}

#[test]
fn http_basic_client_authentication_is_accepted_as_django_oauth_toolkit_does() {
    let app = TestApp::spawn();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", app.client_id, app.client_secret))
    );
    let reply = app.request(
        "POST",
        "/oauth2/access_token",
        &[("Authorization", &basic)],
        Some(("application/x-www-form-urlencoded", "grant_type=client_credentials&token_type=jwt")),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["token_type"], "JWT");
    let wrong =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", app.client_id)));
    let refused = app.request(
        "POST",
        "/oauth2/access_token",
        &[("Authorization", &wrong)],
        Some(("application/x-www-form-urlencoded", "grant_type=client_credentials")),
    );
    assert_eq!((refused.status, refused.json()["error"].as_str()), (401, Some("invalid_client")));
    // RFC 6749 §5.2: a Basic caller is told the scheme; a form caller gets no challenge.
    assert_eq!(refused.header("WWW-Authenticate"), Some("Basic realm=\"oauth2\""));
    let form = app.post_form(
        "/oauth2/access_token",
        &[("grant_type", "client_credentials"), ("client_id", &app.client_id), ("client_secret", "nope")],
    );
    assert_eq!(form.status, 401);
    assert!(form.header("WWW-Authenticate").is_none());
    // §2.3: one authentication method per request.
    let twice = app.request(
        "POST",
        "/oauth2/access_token",
        &[("Authorization", &basic)],
        Some((
            "application/x-www-form-urlencoded",
            &format!("grant_type=client_credentials&client_id={}&client_secret={}", app.client_id, app.client_secret),
        )),
    );
    assert_eq!((twice.status, twice.json()["error"].as_str()), (400, Some("invalid_request")), "{}", twice.text);
}

#[test]
fn jwts_signed_with_the_shared_secret_without_a_client_id_are_accepted_as_edx_drf_extensions_does() {
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_AUTH_JWT_SECRET", SECRET)], &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let open_edx = json!({"iss": format!("{}/oauth2", app.base), "aud": "rollcall", "iat": now, "exp": now + 600,
        "preferred_username": "admin", "version": "1.2.0", "scopes": ["read", "write"], "email": "admin@rollcall.invalid",
        "administrator": true, "filters": []});
    let reply = app.get("/api/admin/v1/courses", Some(&format!("JWT {}", sign(&hs256, &open_edx, SECRET))));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let mut by_username = open_edx.clone();
    by_username.as_object_mut().unwrap().remove("preferred_username");
    by_username["username"] = json!("admin");
    assert_eq!(
        app.get("/api/admin/v1/courses", Some(&format!("JWT {}", sign(&hs256, &by_username, SECRET)))).status,
        200
    );
    // A token that names a client still needs that client to exist.
    let mut deleted = open_edx.clone();
    deleted["client_id"] = json!("no-such-client");
    assert_eq!(app.get("/api/admin/v1/courses", Some(&format!("JWT {}", sign(&hs256, &deleted, SECRET)))).status, 401);
}

#[test]
fn password_grant_tokens_carry_the_user_id_scope_as_open_edx_adds_it() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.user_auth(&admin, "ann", false);
    let reply = app.post_form(
        "/oauth2/access_token",
        &[
            ("grant_type", "password"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("username", "ann"),
            ("password", "password123"),
            ("token_type", "jwt"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.json()["scope"].as_str().unwrap().split(' ').any(|s| s == "user_id"));
    let claims = claims_of(reply.json()["access_token"].as_str().unwrap());
    assert!(claims["scopes"].as_array().unwrap().iter().any(|s| s == "user_id"), "{claims}");
}

fn password_grant(app: &TestApp, client_id: &str, secret: Option<&str>, kind: &str) -> crate::helpers::Reply {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client_id),
        ("username", "ann"),
        ("password", "password123"),
        ("token_type", kind),
    ];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    app.post_form("/oauth2/access_token", &form)
}

#[test]
fn the_password_grant_gives_a_refresh_token_that_is_rotated_on_use_and_revoked_with_its_pair() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.user_auth(&admin, "ann", false);
    for kind in ["bearer", "jwt"] {
        let first = password_grant(&app, &app.client_id, Some(&app.client_secret), kind).json();
        let refresh = first["refresh_token"].as_str().expect("a refresh token").to_owned();
        let exchange = |token: &str| {
            app.post_form(
                "/oauth2/access_token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                ],
            )
        };
        let second = exchange(&refresh);
        assert_eq!(second.status, 200, "{kind}: {}", second.text);
        let second = second.json();
        assert_eq!(second["token_type"], if kind == "jwt" { "JWT" } else { "Bearer" });
        assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
        let scheme = if kind == "jwt" { "JWT" } else { "Bearer" };
        assert!(works(&app, &format!("{scheme} {}", second["access_token"].as_str().unwrap())));
        let reused = exchange(&refresh);
        assert_eq!(
            (reused.status, reused.json()["error"].as_str()),
            (400, Some("invalid_grant")),
            "a refresh token works once"
        );
        if kind == "bearer" {
            assert!(
                !works(&app, &format!("Bearer {}", first["access_token"].as_str().unwrap())),
                "the old access token ends"
            );
            // Revoking the access token ends its refresh token too.
            let access = second["access_token"].as_str().unwrap();
            let revoked = app.post_form(
                "/oauth2/revoke_token",
                &[("client_id", &app.client_id), ("client_secret", &app.client_secret), ("token", access)],
            );
            assert_eq!(revoked.status, 200);
            let after = exchange(second["refresh_token"].as_str().unwrap());
            assert_eq!(after.status, 400, "{}", after.text);
        }
    }
    let client_credentials = app.token_for(&app.client_id, &app.client_secret, "bearer").json();
    assert!(client_credentials.get("refresh_token").is_none(), "client credentials get no refresh token");
}

#[test]
fn a_public_client_uses_the_password_grant_without_a_secret_but_never_client_credentials() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.user_auth(&admin, "ann", false);
    let created = app.send_json(
        "POST",
        "/api/admin/v1/oauth-clients",
        Some(&admin),
        &json!({"name": "Mobile app", "user": "ann", "public": true}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let client = created.json();
    assert_eq!((client["public"].clone(), client["client_secret"].clone()), (json!(true), Value::Null));
    let id = client["client_id"].as_str().unwrap();
    let token = password_grant(&app, id, None, "jwt");
    assert_eq!(token.status, 200, "{}", token.text);
    let refused = app.post_form("/oauth2/access_token", &[("grant_type", "client_credentials"), ("client_id", id)]);
    assert_eq!((refused.status, refused.json()["error"].as_str()), (401, Some("invalid_client")));
    // Existing clients stay confidential: no secret, no token.
    assert_eq!(password_grant(&app, &app.client_id, None, "jwt").status, 401);
}

#[test]
fn only_failed_logins_count_and_per_account_and_address_pair() {
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_LOGIN_PER_MINUTE", "3"), ("ROLLCALL_SERVER_TRUSTED_PROXIES", "127.0.0.1")],
        &[],
    );
    let from = |address: &str, password: &str| {
        let form = format!("username=admin&password={}", crate::helpers::encode(password));
        app.request(
            "POST",
            "/login",
            &[("X-Forwarded-For", address)],
            Some(("application/x-www-form-urlencoded", &form)),
        )
        .status
    };
    // A whole school behind one NAT logs in correctly, many times.
    for _ in 0..15 {
        assert_eq!(from("203.0.113.10", &app.password), 200);
    }
    // A stranger's wrong guesses lock out only the stranger's address for this account.
    for _ in 0..3 {
        assert_eq!(from("198.51.100.66", "guess"), 400);
    }
    assert_eq!(from("198.51.100.66", &app.password), 429);
    assert_eq!(from("203.0.113.10", &app.password), 200, "the owner, elsewhere, still gets in");
}

#[test]
fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let untrusted = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_LOGIN_PER_MINUTE", "2")], &[]);
    let attempt = |app: &TestApp, address: &str| {
        app.request(
            "POST",
            "/login",
            &[("X-Forwarded-For", address)],
            Some(("application/x-www-form-urlencoded", "username=admin&password=wrong-password")),
        )
        .status
    };
    // Without trust, a client cannot dodge the limit by naming other addresses.
    assert_eq!(attempt(&untrusted, "192.0.2.1"), 400);
    assert_eq!(attempt(&untrusted, "192.0.2.2"), 400);
    assert_eq!(attempt(&untrusted, "192.0.2.3"), 429);
    let trusted = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_LOGIN_PER_MINUTE", "2"), ("ROLLCALL_SERVER_TRUSTED_PROXIES", "127.0.0.0/8,::1")],
        &[],
    );
    assert_eq!(attempt(&trusted, "192.0.2.1"), 400);
    assert_eq!(attempt(&trusted, "192.0.2.1"), 400);
    assert_eq!(attempt(&trusted, "192.0.2.1"), 429);
    assert_eq!(attempt(&trusted, "192.0.2.9, 127.0.0.1"), 400, "the right-most untrusted hop is the client");
    let forwarded = trusted.request(
        "POST",
        "/login",
        &[("Forwarded", "for=\"[2001:db8::7]:4711\";proto=https")],
        Some(("application/x-www-form-urlencoded", "username=admin&password=wrong-password")),
    );
    assert_eq!(forwarded.status, 400, "Forwarded: for= names a new client");
}

#[test]
fn the_password_grant_serves_an_account_awaiting_activation_as_a_learner_but_never_a_deactivated_one() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    for (name, staff) in [("newbie", false), ("newstaff", true), ("gone", false)] {
        let body = json!({"username": name, "email": format!("{name}@example.org"), "password": "password123", "is_active": name == "gone", "is_staff": staff});
        assert_eq!(app.send_json("POST", "/api/admin/v1/users", Some(&admin), &body).status, 201);
    }
    let grant = |username: &str| {
        app.post_form(
            "/oauth2/access_token",
            &[
                ("grant_type", "password"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("username", username),
                ("password", "password123"),
                ("token_type", "jwt"),
            ],
        )
    };
    let reply = grant("newbie");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["email_verified"], false);
    let auth = format!("JWT {token}");
    assert_eq!(app.get("/api/user/v1/me", Some(&auth)).json()["username"], "newbie");
    // An inactive staff account has a learner's permissions until it is activated.
    let staff = format!("JWT {}", grant("newstaff").json()["access_token"].as_str().unwrap());
    assert_eq!(app.get("/api/admin/v1/courses", Some(&staff)).status, 403);
    // A browser login still needs an active account.
    assert_eq!(app.post_form("/login", &[("username", "newbie"), ("password", "password123")]).status, 400);
    // A deactivated account is not "awaiting activation": no token.
    assert_eq!(app.request("DELETE", "/api/admin/v1/users/gone", &[("Authorization", &admin)], None).status, 200);
    let refused = grant("gone");
    assert_eq!((refused.status, refused.json()["error"].as_str()), (400, Some("invalid_grant")), "{}", refused.text);
}

#[test]
fn a_refused_token_write_answers_503_temporarily_unavailable() {
    let app = TestApp::spawn_refusable(&[]);
    let refused = app.refuse_writes();
    let reply = app.token_for(&app.client_id, &app.client_secret, "bearer");
    crate::helpers::assert_refused(&reply, "error");
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
    drop(refused);
    assert_eq!(app.token_for(&app.client_id, &app.client_secret, "bearer").status, 200);
}
