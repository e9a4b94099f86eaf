//! `/api/admin/v1/…`: the school admin's catalog, users, OAuth clients, outbox and
//! learning paths. Superusers and global staff only; errors in the v2 format (docs/architecture.md
//! "Error dialects"). One file per resource; this one holds the route table and the guard.

pub mod courses;
mod learning_paths;
mod outbox;
pub mod progress;
pub mod rosters;
mod scim;
mod users;
pub mod waitlist;
mod webhooks;

use courses::*;
use learning_paths::*;
use outbox::*;
use progress::*;
use rosters::*;
use scim::*;
use users::*;
use waitlist::*;
use webhooks::*;

use super::errors::Dialect;
use super::http::{iso, Ctx};
use super::router::{Doc, Route};
use crate::core::accounts::Actor;
use crate::core::Error;

pub fn routes() -> Vec<Route> {
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::V2, handler, doc };
    let doc = |summary, request, status, response| Doc {
        summary,
        tag: "admin",
        auth: true,
        request,
        status,
        response,
        query: &[],
    };
    let paged: &'static [(&str, &str)] = &[("page", "1-based page number"), ("page_size", "items per page (max 100)")];
    vec![
        r(
            "GET",
            "/api/admin/v1/courses",
            get_courses,
            Doc { query: paged, ..doc("List every course, published or not", None, 200, Some("AdminCoursePage")) },
        ),
        r(
            "POST",
            "/api/admin/v1/courses",
            post_courses,
            doc("Create a course", Some("AdminCourseInput"), 201, Some("AdminCourse")),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/enrollments.csv",
            get_roster_csv,
            doc(
                "The roster as CSV (streamed): username,email,name,mode,status,enrolled_at,updated_at; course staff of the course too",
                None,
                200,
                Some("Csv"),
            ),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/enrollments.csv",
            post_roster_csv,
            Doc {
                query: &[
                    ("action", "enroll (default) or unenroll"),
                    ("auto_enroll", "true: emails without an account are enrolled when they register"),
                    ("email_students", "true: email each learner"),
                    ("reason", "kept in the history and included in the emails"),
                ],
                ..doc(
                    "Enroll or unenroll the learners of a CSV (header: email, username or identifier; optional mode): a task, as v2's",
                    Some("Csv"),
                    202,
                    Some("V2AsyncResult"),
                )
            },
        ),
        r(
            "PATCH",
            "/api/admin/v1/courses/{course_key}/enrollments/{username}",
            patch_enrollment,
            doc(
                "Change one enrollment's status (active, suspended, expired, inactive) and access dates",
                Some("EnrollmentLifecyclePatch"),
                200,
                Some("EnrollmentLifecycle"),
            ),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/waitlist",
            get_waitlist,
            doc("The course's waitlist, first in line first", None, 200, Some("Waitlist")),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/waitlist",
            post_waitlist,
            doc(
                "Put a learner at the end of the waitlist (a free seat goes to the first in line at once)",
                Some("WaitlistAdd"),
                201,
                Some("WaitlistAdded"),
            ),
        ),
        r(
            "PATCH",
            "/api/admin/v1/courses/{course_key}/waitlist/{username}",
            patch_waitlist_entry,
            doc("Move a waiting learner to another position (1 is next)", Some("WaitlistMove"), 200, Some("Waitlist")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}/waitlist/{username}",
            delete_waitlist_entry,
            doc("Take a learner off the waitlist", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/enrollments/{username}/progress",
            get_progress,
            doc("A learner's recorded completion, grade and certificate in the course", None, 200, Some("Progress")),
        ),
        r(
            "PUT",
            "/api/admin/v1/courses/{course_key}/enrollments/{username}/progress",
            put_progress,
            doc(
                "Record a learner's completion, grade and certificate (an LMS or grading system pushes it; kept with history)",
                Some("ProgressInput"),
                200,
                Some("Progress"),
            ),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/progress.csv",
            post_progress_csv,
            doc(
                "Record many learners' progress from a CSV (username,completion,grade,passed,completed_at[,certificate_url]): a task",
                Some("Csv"),
                202,
                Some("V2AsyncResult"),
            ),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/history",
            get_history,
            Doc {
                query: &[
                    ("username", "only this learner"),
                    ("email", "only this email"),
                    ("since", "ISO 8601: entries at or after it"),
                    ("before", "an entry id: older entries (the next link)"),
                    ("page_size", "default 50, at most 500"),
                ],
                ..doc("The course's enrollment history, newest first", None, 200, Some("AdminHistoryPage"))
            },
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}",
            get_course,
            doc("Get one course", None, 200, Some("AdminCourse")),
        ),
        r(
            "PATCH",
            "/api/admin/v1/courses/{course_key}",
            patch_course,
            doc(
                "Change some of a course's fields (modes, when given, are replaced)",
                Some("AdminCoursePatch"),
                200,
                Some("AdminCourse"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}",
            delete_course,
            Doc {
                query: &[("purge", "true: delete a course that never had an enrollment, instead of unpublishing it")],
                ..doc("Unpublish a course", None, 204, None)
            },
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/modes",
            get_modes,
            doc("List a course's modes", None, 200, Some("CourseModeList")),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/modes",
            post_modes,
            doc("Add or replace a mode", Some("CourseMode"), 201, Some("CourseModeList")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}/modes/{slug}",
            delete_mode,
            doc("Remove a mode", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/staff",
            get_staff,
            doc("List the course's instructors and staff", None, 200, Some("CourseStaffList")),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/staff",
            post_staff,
            doc("Grant a course role", Some("CourseStaffInput"), 201, Some("CourseStaffList")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}/staff",
            delete_staff,
            doc(
                "Revoke a course role (all of the user's roles when `role` is omitted)",
                Some("CourseStaffRemoval"),
                204,
                None,
            ),
        ),
        r(
            "GET",
            "/api/admin/v1/users",
            get_users,
            Doc { query: paged, ..doc("List users", None, 200, Some("AdminUserPage")) },
        ),
        r(
            "POST",
            "/api/admin/v1/users",
            post_users,
            doc("Create a user", Some("AdminUserInput"), 201, Some("AdminUser")),
        ),
        r("GET", "/api/admin/v1/users/{username}", get_user, doc("Get one user", None, 200, Some("AdminUser"))),
        r(
            "PATCH",
            "/api/admin/v1/users/{username}",
            patch_user,
            doc("Change a user", Some("AdminUserPatch"), 200, Some("AdminUser")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/users/{username}",
            delete_user,
            doc("Deactivate a user (the account is kept)", None, 200, Some("AdminUser")),
        ),
        r(
            "GET",
            "/api/admin/v1/oauth-clients",
            get_clients,
            doc("List OAuth clients (secrets are never shown again)", None, 200, Some("OAuthClientList")),
        ),
        r(
            "POST",
            "/api/admin/v1/oauth-clients",
            post_clients,
            doc(
                "Create an OAuth client acting as a user; the secret is shown once",
                Some("OAuthClientInput"),
                201,
                Some("OAuthClientCreated"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/oauth-clients/{client_id}",
            delete_client,
            doc("Delete a client; its tokens stop working", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/scim-tokens",
            get_scim_tokens,
            doc("List SCIM tokens (superusers; tokens are never shown again)", None, 200, Some("ScimTokenList")),
        ),
        r(
            "POST",
            "/api/admin/v1/scim-tokens",
            post_scim_tokens,
            doc(
                "Create a token for an identity provider's SCIM client (superusers); the token is shown once",
                Some("ScimTokenInput"),
                201,
                Some("ScimTokenCreated"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/scim-tokens/{id}",
            delete_scim_token,
            doc("Revoke a SCIM token (superusers)", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/scim-groups",
            get_scim_groups,
            doc("SCIM groups with their course links and what each link did", None, 200, Some("ScimGroupLinksList")),
        ),
        r(
            "POST",
            "/api/admin/v1/scim-groups/{id}/courses",
            post_scim_group_courses,
            doc(
                "Link a SCIM group to a course (or change the link's mode): its members are enrolled",
                Some("ScimGroupLinkInput"),
                201,
                Some("ScimGroupLinks"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/scim-groups/{id}/courses/{course_key}",
            delete_scim_group_course,
            doc("Unlink a course: the enrollments the link made end", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/outbox",
            get_outbox,
            Doc {
                query: &[
                    ("status", "pending, sent or failed"),
                    ("before", "id to page from (newest first)"),
                    ("page_size", "at most 100"),
                ],
                ..doc("Outgoing emails and their delivery state", None, 200, Some("OutboxPage"))
            },
        ),
        r(
            "POST",
            "/api/admin/v1/outbox/{id}/retry",
            post_outbox_retry,
            doc("Deliver a pending or failed email again now", None, 200, Some("OutboxMessage")),
        ),
        r("GET", "/api/admin/v1/webhooks", get_webhooks, doc("List webhook endpoints", None, 200, Some("WebhookList"))),
        r(
            "POST",
            "/api/admin/v1/webhooks",
            post_webhooks,
            doc(
                "Subscribe a URL to enrollment events (the signing secret is shown once)",
                Some("WebhookInput"),
                201,
                Some("WebhookCreated"),
            ),
        ),
        r("DELETE", "/api/admin/v1/webhooks/{id}", delete_webhook, doc("Unsubscribe an endpoint", None, 204, None)),
        r(
            "GET",
            "/api/admin/v1/learning-paths",
            get_learning_paths,
            doc("List every learning path", None, 200, Some("AdminLearningPathList")),
        ),
        r(
            "POST",
            "/api/admin/v1/learning-paths",
            post_learning_paths,
            doc(
                "Create a learning path from existing courses",
                Some("AdminLearningPathInput"),
                201,
                Some("AdminLearningPath"),
            ),
        ),
    ]
}

/// Superuser or global staff, within the admin rate limit.
fn admin(ctx: &mut Ctx) -> Result<Actor, Error> {
    let caller = ctx.caller()?;
    if !caller.is_global_staff() {
        return Err(Error::forbidden("Only superusers and global staff may use the admin API."));
    }
    let actor = super::http::actor_of(caller);
    let key = caller.key();
    ctx.throttle(&ctx.env.limits.admin, &key)?;
    Ok(actor)
}
