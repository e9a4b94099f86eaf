//! The OAuth2 token endpoint's logic (`POST /oauth2/access_token`) and password login,
//! shared by the password grant and `POST /login`.

use super::{Env, Error, ErrorKind};
use crate::auth::passwords::Verified;
use crate::auth::{jwt, secrets, Auth};
use crate::store::{self, users::UserRecord, Db};

pub struct TokenRequest {
    pub grant_type: String,
    /// For `grant_type=refresh_token`.
    pub refresh_token: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    /// "jwt" or anything else (opaque bearer), as Open edX.
    pub token_type: String,
    pub scope: Option<String>,
}

pub struct IssuedToken {
    pub access_token: String,
    /// The password and refresh grants' (django-oauth-toolkit rotates it on each use).
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

const DEFAULT_SCOPES: [&str; 4] = ["read", "write", "email", "profile"];
const KNOWN_SCOPES: [&str; 5] = ["read", "write", "email", "profile", "user_id"];

fn oauth_error(kind: ErrorKind, code: &'static str, message: &str) -> Error {
    Error::new(kind, message).with_code(code)
}

pub fn issue(env: &Env, request: &TokenRequest, remote: &str, now: i64) -> Result<IssuedToken, Error> {
    let (auth, db) = (&env.auth, &env.db);
    if let Err(wait) = env.limits.check(&env.limits.token, remote, now) {
        let mut e = oauth_error(ErrorKind::RateLimited, "rate_limited", "Too many token requests; try again later.");
        e.retry_after = Some(wait);
        return Err(e);
    }
    if !matches!(request.grant_type.as_str(), "client_credentials" | "password" | "refresh_token") {
        return Err(oauth_error(
            ErrorKind::Validation,
            if request.grant_type.is_empty() { "invalid_request" } else { "unsupported_grant_type" },
            "grant_type must be client_credentials, password or refresh_token.",
        ));
    }
    let scopes: Vec<&str> = match &request.scope {
        Some(s) if !s.trim().is_empty() => s.split_whitespace().collect(),
        _ => DEFAULT_SCOPES.to_vec(),
    };
    if let Some(bad) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(s)) {
        return Err(oauth_error(ErrorKind::Validation, "invalid_scope", &format!("Unknown scope '{bad}'.")));
    }
    let invalid_client = || oauth_error(ErrorKind::NotAuthenticated, "invalid_client", "Client authentication failed.");
    let client = db.read(|conn| store::clients::by_client_id(conn, &request.client_id))?;
    // Hash even when the client is unknown, so timing does not tell which client ids exist.
    let presented = secrets::sha256_hex(&request.client_secret);
    let stored = client.as_ref().map(|c| c.secret_hash.as_str()).unwrap_or("");
    let secret_ok = secrets::constant_time_eq(presented.as_bytes(), stored.as_bytes());
    // A public client has no secret to present; it may not act as itself.
    let public_ok = client.as_ref().is_some_and(|c| c.public) && request.grant_type != "client_credentials";
    let client =
        client.filter(|_| (secret_ok || public_ok) && !request.client_id.is_empty()).ok_or_else(invalid_client)?;

    // A refresh token is exchanged once, for a new access token of the kind first asked
    // for and a new refresh token (django-oauth-toolkit's rotation).
    let mut token_type = request.token_type.clone();
    let mut refreshed_scope = None;
    let user = if request.grant_type == "refresh_token" {
        let invalid_grant =
            || oauth_error(ErrorKind::Validation, "invalid_grant", "The refresh token is invalid, used or revoked.");
        if request.refresh_token.is_empty() {
            return Err(oauth_error(ErrorKind::Validation, "invalid_request", "refresh_token is required."));
        }
        let hash = secrets::sha256_hex(&request.refresh_token);
        db.write(|conn| {
            let record = store::clients::refresh_by_hash(conn, &hash)?
                .filter(|r| r.client_row_id == client.id)
                .ok_or_else(invalid_grant)?;
            store::clients::spend_refresh(conn, &record)?;
            token_type = record.token_type.clone();
            refreshed_scope = Some(record.scope.clone());
            store::users::by_id(conn, record.user_id)?
                .filter(|u| u.is_active || u.awaiting_activation())
                .ok_or_else(invalid_grant)
        })?
    } else if request.grant_type == "password" {
        if request.username.is_empty() || request.password.is_empty() {
            return Err(oauth_error(ErrorKind::Validation, "invalid_request", "username and password are required."));
        }
        login(env, &request.username, &request.password, remote, now, true).map_err(|e| {
            if e.kind == ErrorKind::RateLimited {
                e
            } else {
                e.with_code("invalid_grant")
            }
        })?
    } else {
        db.read(|conn| store::users::by_id(conn, client.user_id))?
            .filter(|u| u.is_active)
            .ok_or_else(|| oauth_error(ErrorKind::Validation, "invalid_grant", "The client's user is inactive."))?
    };

    // Open edX adds user_id to a password grant's scopes (oauth_dispatch's
    // ScopedTokenValidator for first-party password clients), and mobile apps read it.
    let mut scopes = match &refreshed_scope {
        Some(scope) => scope.split_whitespace().collect(),
        None => scopes,
    };
    if request.grant_type == "password" && !scopes.contains(&"user_id") {
        scopes.push("user_id");
    }
    let with_refresh = request.grant_type != "client_credentials";
    // Written in the caller's transaction, with the access token it pairs with.
    let new_refresh = |conn: &store::Conn, access_hash: Option<&str>, kind: &str| -> Result<Option<String>, Error> {
        if !with_refresh {
            return Ok(None);
        }
        let token = secrets::random_token(32);
        let scope = scopes.join(" ");
        store::clients::insert_refresh(
            conn,
            &secrets::sha256_hex(&token),
            client.id,
            user.id,
            &scope,
            kind,
            access_hash,
            now,
        )?;
        Ok(Some(token))
    };
    let lifetime = auth.token_lifetime;
    let scope = scopes.join(" ");
    if token_type.eq_ignore_ascii_case("jwt") {
        let subject = jwt::Subject {
            user_id: user.id,
            username: &user.username,
            email: &user.email,
            name: &user.name,
            first_name: &user.first_name,
            last_name: &user.last_name,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            is_active: user.is_active,
            client_id: &client.client_id,
            grant_type: &request.grant_type,
            scopes: &scopes,
        };
        return Ok(IssuedToken {
            access_token: auth.jwt.issue(&subject, now, lifetime),
            refresh_token: if with_refresh { db.write(|conn| new_refresh(conn, None, "jwt"))? } else { None },
            token_type: "JWT",
            expires_in: lifetime,
            scope,
        });
    }
    let token = secrets::random_token(32);
    let hash = secrets::sha256_hex(&token);
    let refresh_token = db.write(|conn| {
        store::clients::insert_token(conn, &hash, client.id, user.id, &scope, now + lifetime, now)?;
        new_refresh(conn, Some(&hash), "bearer")
    })?;
    Ok(IssuedToken { access_token: token, refresh_token, token_type: "Bearer", expires_in: lifetime, scope })
}

/// Revokes an opaque token on behalf of the client it was issued to (RFC 7009: the answer
/// is the same whether or not the token existed).
pub fn revoke(db: &Db, client_id: &str, client_secret: &str, token: &str) -> Result<(), Error> {
    let client = db.read(|conn| store::clients::by_client_id(conn, client_id))?;
    let presented = secrets::sha256_hex(client_secret);
    let client = client
        .filter(|c| c.public || secrets::constant_time_eq(presented.as_bytes(), c.secret_hash.as_bytes()))
        .ok_or_else(|| oauth_error(ErrorKind::NotAuthenticated, "invalid_client", "Client authentication failed."))?;
    // RFC 7009 §2.2.1: a JWT is self-contained; pretending to revoke it would be a 200
    // that changes nothing.
    if jwt::looks_like_jwt(token) {
        return Err(oauth_error(
            ErrorKind::Validation,
            "unsupported_token_type",
            "JWTs cannot be revoked: they expire by themselves. To end one now, change the user's password, deactivate the user, or delete the client.",
        ));
    }
    db.write(|conn| store::clients::revoke_token(conn, &secrets::sha256_hex(token), client.id))?;
    Ok(())
}

/// Checks a username-or-email and password. Only failures count against the limits: per
/// account-and-address pair (a stranger's wrong guesses cannot lock the owner out) and per
/// address (a whole school behind one NAT shares one). A Django hash, or an argon2 hash of
/// another cost, is upgraded on success.
/// `awaiting_activation_ok`: the password grant also accepts an account not yet activated
/// (Open edX's DOT validator does; the token says `email_verified: false`); a browser login
/// does not.
pub fn login(
    env: &Env,
    login: &str,
    password: &str,
    remote: &str,
    now: i64,
    awaiting_activation_ok: bool,
) -> Result<UserRecord, Error> {
    let limited = |wait: u64| {
        let mut e = Error::new(ErrorKind::RateLimited, "Too many failed login attempts; try again in a minute.");
        e.retry_after = Some(wait);
        e
    };
    let limits = &env.limits;
    let pair = format!("pair:{}|{remote}", login.to_lowercase());
    let address = format!("addr:{remote}");
    if limits.enabled {
        limits.login.peek(&pair, now).map_err(limited)?;
        limits.login_address.peek(&address, now).map_err(limited)?;
    }
    let result = check_password(&env.auth, &env.db, login, password, awaiting_activation_ok);
    if result.as_ref().is_err_and(|e| e.code == Some("invalid_credentials")) {
        let _ = limits.check(&limits.login, &pair, now);
        let _ = limits.check(&limits.login_address, &address, now);
    }
    result
}

/// Whether `password` is `user`'s current one (a learner changing their password proves
/// it). Wrong answers count against the failed-login limit for that account, so a stolen
/// token cannot guess the password faster than the sign-in page allows.
pub fn current_password_matches(env: &Env, user: &UserRecord, password: &str, now: i64) -> Result<bool, Error> {
    let limits = &env.limits;
    let key = format!("current-password:{}", user.id);
    if limits.enabled {
        limits.login.peek(&key, now).map_err(|wait| {
            let mut e = Error::new(ErrorKind::RateLimited, "Too many wrong passwords; try again in a minute.");
            e.retry_after = Some(wait);
            e
        })?;
    }
    let matches = user
        .password_hash
        .as_deref()
        .is_some_and(|stored| !matches!(env.auth.passwords.verify(password, stored), Verified::No));
    if !matches {
        let _ = limits.check(&limits.login, &key, now);
    }
    Ok(matches)
}

fn check_password(
    auth: &Auth,
    db: &Db,
    login: &str,
    password: &str,
    awaiting_activation_ok: bool,
) -> Result<UserRecord, Error> {
    let failed = || Error::new(ErrorKind::Validation, "Invalid username or password.").with_code("invalid_credentials");
    let user = db.read(|conn| store::users::by_login(conn, login))?;
    let Some(user) = user.filter(|u| u.is_active || (awaiting_activation_ok && u.awaiting_activation())) else {
        auth.passwords.waste_verification(password);
        return Err(failed());
    };
    let Some(stored) = user.password_hash.as_deref() else {
        auth.passwords.waste_verification(password);
        return Err(failed());
    };
    match auth.passwords.verify(password, stored) {
        Verified::No => Err(failed()),
        Verified::Yes => Ok(user),
        Verified::YesNeedsUpgrade => {
            let upgraded = auth.passwords.hash(password);
            db.write(|conn| store::users::set_password_hash(conn, user.id, &upgraded))?;
            Ok(UserRecord { password_hash: Some(upgraded), ..user })
        }
    }
}
