//! `/appsembler_api/v0/…`: Appsembler's API (Appsembler's appsembler_api v0), with the behaviour
//! its existing clients see (its code, where it differs from its docs): status codes,
//! key names (including `"user_id "` with a trailing space on `accounts/create`) and
//! messages as the original code returns them, where that differs from its docs.

use super::errors::Dialect;
use super::http::{json, Ctx, Page};
use super::router::{Doc, Route};
use crate::core::accounts::{self, Actor, NewUser, ProfileChanges, ProfileUpdate};
use crate::core::bulk::{self, Action, Requester, RosterOptions};
use crate::core::enrollment::Source;
use crate::core::{catalog, codes, roster, Error, ErrorKind};
use crate::domain::{CourseKey, Email, Principal, Profile, Timestamp, Username};
use rouille::Response;
use serde_json::{json, Value};

// One file per URL group under /appsembler_api/v0/.
mod v0_accounts;
mod v0_analytics;
mod v0_bulk;
mod v0_codes;
mod v0_login_session;

use v0_accounts::*;
use v0_analytics::*;
use v0_bulk::*;
use v0_codes::*;
use v0_login_session::*;

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "appsembler",
        auth: true,
        request,
        status: 200,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::Appsembler, handler, doc };
    let analytics: &'static [(&str, &str)] =
        &[("updated_min", "joined/enrolled after (ISO date or date-time)"), ("updated_max", "before")];
    vec![
        Route {
            method: "GET",
            path: LOGIN_SESSION,
            dialect: Dialect::Drf,
            handler: get_login_session,
            doc: Doc {
                auth: false,
                ..doc(
                    "The sign-in form for another site, and the csrftoken cookie its POST must send back",
                    None,
                    Some("AppsemblerLoginForm"),
                )
            },
        },
        Route {
            method: "POST",
            path: LOGIN_SESSION,
            dialect: Dialect::Drf,
            handler: post_login_session,
            doc: Doc {
                auth: false,
                ..doc(
                    "Sign in with email and password (as /login: same errors and throttling) and start a browser session; needs the csrftoken cookie and the same token in X-CSRFToken or csrfmiddlewaretoken",
                    Some("AppsemblerLoginSession"),
                    Some("AppsemblerLoginSuccess"),
                )
            },
        },
        r(
            "POST",
            "/appsembler_api/v0/accounts/create",
            post_accounts_create,
            doc("Create an active account", Some("AppsemblerCreateAccount"), Some("AppsemblerCreatedUser")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/user_without_password",
            post_user_without_password,
            doc(
                "Create an inactive account from an email and a name; a set-password email activates it",
                Some("AppsemblerUserWithoutPassword"),
                Some("AppsemblerUserId"),
            ),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/connect",
            post_accounts_connect,
            doc("Change an account's email, password or name", Some("AppsemblerConnect"), Some("AppsemblerUserId")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/update_user",
            post_update_user,
            doc(
                "Update an account's email, profile and custom fields",
                Some("AppsemblerUpdateUser"),
                Some("AppsemblerSuccess"),
            ),
        ),
        r(
            "GET",
            "/appsembler_api/v0/accounts/get-user/{username}",
            get_user,
            doc("Whether a username exists", None, Some("AppsemblerUsername")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/generate",
            post_codes_generate,
            doc("Generate enrollment codes for a course", Some("AppsemblerGenerateCodes"), Some("AppsemblerCodes")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/enroll-user",
            post_codes_enroll_user,
            doc("Enroll a user with a code", Some("AppsemblerRedeemCode"), Some("AppsemblerSuccess")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/status",
            post_codes_status,
            doc("Cancel or restore a code", Some("AppsemblerCodeStatus"), Some("AppsemblerSuccess")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/bulk-enrollment/bulk-enroll",
            post_bulk_enroll,
            doc(
                "Enroll or unenroll many learners in many courses",
                Some("AppsemblerBulkEnroll"),
                Some("AppsemblerBulkResult"),
            ),
        ),
        r(
            "GET",
            "/appsembler_api/v0/analytics/accounts/batch",
            get_analytics_accounts,
            Doc { query: analytics, ..doc("Accounts, by join date", None, Some("AppsemblerAccounts")) },
        ),
        r(
            "GET",
            "/appsembler_api/v0/analytics/enrollment/batch",
            get_analytics_enrollments,
            Doc {
                query: &[
                    ("course_id", "one course"),
                    ("username", "one user"),
                    ("updated_min", "enrolled after"),
                    ("updated_max", "enrolled before"),
                ],
                ..doc("Enrollments, by enrollment date", None, Some("AppsemblerEnrollments"))
            },
        ),
        Route {
            method: "GET",
            path: "/appsembler_api/v0/search_courses",
            dialect: Dialect::Appsembler,
            handler: get_search_courses,
            doc: Doc {
                auth: false,
                query: &[
                    ("search_term", "words in the title, code or key"),
                    ("org", "organization"),
                    ("page", "1-based"),
                    ("page_size", "at most 100"),
                ],
                ..doc("Search the published catalog", None, Some("PublicCoursePage"))
            },
        },
    ]
}

pub(super) fn user_message(status: u16, message: &str) -> Response {
    json(status, &json!({"user_message": message}))
}

/// The request body as DRF's `request.data`: JSON, a form or multipart.
pub(super) fn body(ctx: &Ctx) -> Result<serde_json::Map<String, Value>, Error> {
    ctx.body_object()
}

/// A text field: null is absent (never the text "null"); a list or object is its field error.
pub(super) fn field(body: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    super::body::text_field(body, name)
}

/// Open edX's IsStaffOrOwner: staff, or a caller naming itself as `username`.
pub(super) fn staff_or_owner(ctx: &mut Ctx, named: Option<&str>) -> Result<Principal, Error> {
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.env.limits.appsembler, &principal.key())?;
    let own = principal.user().is_some_and(|u| named == Some(u.username.as_str()));
    if principal.is_global_staff() || matches!(principal, Principal::ApiKey) || own {
        Ok(principal)
    } else {
        Err(Error::forbidden("You do not have permission to perform this action."))
    }
}

pub(super) fn actor(principal: &Principal) -> Actor {
    super::http::actor_of(principal)
}
