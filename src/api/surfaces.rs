//! The registry of API surfaces: each declared once, with the URL prefixes of its modules,
//! the error dialect of a path under them that no route matches, and its documentation
//! (tags and introduction). The router, the OpenAPI document, the reference page and the
//! front page all read this table, and a module is named after the prefix it serves, so a
//! URL's handler is found from its prefix here in one step.

use super::errors::Dialect;
use super::router::Route;
use super::{
    admin, admin_v1, appsembler, checkout, courses_v1, docs, enrollment_v1, enrollment_v2, home, instructor_v2,
    learning_paths, oauth, scim, system, user_v1,
};

/// One module of a surface: every route it declares starts with one of its prefixes.
pub struct Module {
    /// A prefix ending in `/` also covers the path without it (`/admin` as `/admin/`); the
    /// prefix `/` is the front page alone.
    pub prefixes: &'static [&'static str],
    pub dialect: Dialect,
    pub routes: fn() -> Vec<Route>,
}

impl Module {
    /// How closely this module claims `path`: the length of its longest matching prefix.
    pub fn claims(&self, path: &str) -> Option<usize> {
        self.prefixes
            .iter()
            .filter(|p| match **p {
                "/" => path == "/",
                p => path.starts_with(p) || p.strip_suffix('/') == Some(path),
            })
            .map(|p| p.len())
            .max()
    }
}

/// One API surface as the reference groups it: its routes are those of its tags.
pub struct Surface {
    pub id: &'static str,
    pub title: &'static str,
    pub tags: &'static [&'static str],
    /// Where its URLs start.
    pub prefix: &'static str,
    /// One line for the front page.
    pub summary: &'static str,
    /// Who calls it, how they authenticate, and its error format.
    pub intro: &'static str,
    pub modules: &'static [Module],
    /// Whether its routes are in the OpenAPI document and the reference.
    pub documented: bool,
}

/// The surfaces in the reference's order; the console last, outside the document.
pub const SURFACES: [Surface; 11] = [
    Surface {
        id: "authentication",
        title: "Authentication",
        tags: &["auth"],
        prefix: "/oauth2/",
        summary: "OAuth2 tokens (JWT or opaque Bearer) for every other surface, and browser sessions.",
        intro: "Every integration starts here. POST /oauth2/access_token with client_credentials (a client acting as its user) or password, form-encoded or with HTTP Basic client authentication; token_type=jwt gives an HS256 JWT with Open edX's claims (send it as Authorization: JWT …), otherwise an opaque token (Authorization: Bearer …). Browsers sign in at /login and get an HttpOnly session cookie; unsafe requests then need the X-CSRFToken header. Errors are RFC 6749's {\"error\", \"error_description\"}.",
        modules: &[Module { prefixes: &["/oauth2/", "/login", "/logout", "/account/"], dialect: Dialect::OAuth, routes: oauth::routes }],
        documented: true,
    },
    Surface {
        id: "lms-v1",
        title: "Open edX LMS v1",
        tags: &["lms-v1", "accounts", "catalog"],
        prefix: "/api/enrollment/v1/",
        summary: "Open edX's enrollment, enrollment_allowed, account and course APIs, for integrations written for Open edX.",
        intro: "For integrations written against Open edX (WooCommerce and other shop plugins, SSO bridges, reporting). Same URLs, methods, bodies and status codes as Open edX: a JWT or Bearer token, or X-Edx-Api-Key for server-to-server calls. Errors are Open edX's: {\"message\": …} from the enrollment views, DRF's {\"detail\": …} for authentication, permission and throttling, {\"developer_message\": …} from the account views.",
        modules: &[
            Module { prefixes: &["/api/enrollment/v1/"], dialect: Dialect::LmsV1, routes: enrollment_v1::routes },
            Module { prefixes: &["/api/user/v1/"], dialect: Dialect::Developer, routes: user_v1::routes },
            Module { prefixes: &["/api/courses/v1/"], dialect: Dialect::Drf, routes: courses_v1::routes },
        ],
        documented: true,
    },
    Surface {
        id: "enrollment-v2",
        title: "Enrollment v2 and tasks",
        tags: &["enrollment-v2"],
        prefix: "/api/enrollment/v2/",
        summary: "Resource-oriented enrollments: one learner synchronously, many as a background task.",
        intro: "For a course's staff and for systems that enroll in bulk: one identifier answers 200 with before/after states, several start a task (202 with its status URL) that you poll; pre-enrollment of emails, modes, DRF paging. A JWT or Bearer token of course staff or global staff. Errors are {error_code, developer_message, user_message, status_code, field_errors}.",
        modules: &[Module { prefixes: &["/api/enrollment/v2/"], dialect: Dialect::V2, routes: enrollment_v2::routes }],
        documented: true,
    },
    Surface {
        id: "instructor-v2",
        title: "Instructor v2",
        tags: &["instructor-v2"],
        prefix: "/api/instructor/v2/",
        summary: "Open edX's instructor dashboard routes: learner lists and enrollment changes.",
        intro: "What Open edX's instructor dashboard (MFE) calls: the course's learners and enrollments/modify. Course staff or global staff, by JWT, Bearer or session. Errors in Open edX's shapes.",
        modules: &[Module { prefixes: &["/api/instructor/v2/"], dialect: Dialect::Drf, routes: instructor_v2::routes }],
        documented: true,
    },
    Surface {
        id: "appsembler",
        title: "Appsembler",
        tags: &["appsembler"],
        prefix: "/appsembler_api/v0/",
        summary: "Appsembler's accounts, enrollment codes, bulk enrollment and analytics API.",
        intro: "For clients of Appsembler's legacy API (Tahoe sites, their Zapier and CRM integrations): the original's URLs and key names, including its quirks. Bearer token of global staff (or of the account itself where the original allows). Errors are {\"user_message\": …}, DRF's {\"detail\": …} for authentication and {\"field\": [\"…\"]} for bad fields.",
        modules: &[Module { prefixes: &["/appsembler_api/v0/"], dialect: Dialect::Appsembler, routes: appsembler::routes }],
        documented: true,
    },
    Surface {
        id: "learning-paths",
        title: "Learning paths",
        tags: &["learning-paths"],
        prefix: "/api/learning_paths/v1/",
        summary: "The learning-paths plugin's API: paths of courses, enrollment, progress, grades, programs.",
        intro: "What the learning-paths plugin's frontend and course-discovery call: visible paths, enrolling in a path and then its courses, bulk enrollment by email, a learner's progress and grade, paths as Programs. Any signed-in user (staff for others' records). Errors are DRF's {\"detail\": …}.",
        modules: &[Module {
            // The second prefix is the enrollment ADR's route, `/api/v1/learning-path/{uuid}/enroll/`.
            prefixes: &["/api/learning_paths/v1/", "/api/v1/learning-path/"],
            dialect: Dialect::Drf,
            routes: learning_paths::routes,
        }],
        documented: true,
    },
    Surface {
        id: "checkout",
        title: "Checkout",
        tags: &["checkout"],
        prefix: "/api/v1/enrollments",
        summary: "One nested-JSON call that creates a student, takes a (simulated) payment and enrolls.",
        intro: "For a shop or a sign-up form: student, course, payment and enrollment in one body, all or nothing; card numbers are checked (Luhn) and never stored (only the last four). A Bearer or JWT token of global staff or a service client; 10 calls a minute. Errors are {success: false, message, errors: {\"student.email\": […]}, error_code}, 422 for validation.",
        modules: &[Module { prefixes: &["/api/v1/enrollments"], dialect: Dialect::Checkout, routes: checkout::routes }],
        documented: true,
    },
    Surface {
        id: "admin",
        title: "Admin",
        tags: &["admin"],
        prefix: "/api/admin/v1/",
        summary: "The school's catalog, users, OAuth clients, roster CSV, history, progress, outbox and webhooks.",
        intro: "For the school's own scripts (the admin console uses the same rules): courses and modes, course staff, users, OAuth clients (secret shown once), the roster as CSV and CSV uploads, the enrollment history, completion and grades, the outbox and webhooks. Superusers and global staff; a course's staff for its roster, history and progress. Errors are v2's {error_code, developer_message, user_message, status_code, field_errors}.",
        modules: &[Module { prefixes: &["/api/admin/v1/"], dialect: Dialect::V2, routes: admin_v1::routes }],
        documented: true,
    },
    Surface {
        id: "scim",
        title: "SCIM provisioning",
        tags: &["scim"],
        prefix: "/scim/v2/",
        summary: "SCIM 2.0 for identity providers (Entra ID, Okta): accounts and groups that enroll in linked courses.",
        intro: "For the school's identity provider: it creates, updates and deactivates accounts (Users) and keeps Groups; a group linked to courses (admin API: /api/admin/v1/scim-groups) enrolls its members and unenrolls those who leave. RFC 7643/7644: filters with eq and and, paging, PATCH, ETags. Authorization: Bearer <SCIM token> (made by a superuser: /api/admin/v1/scim-tokens or `rollcall create-scim-token`); no other credential works here. Errors are SCIM's {schemas, status, scimType, detail}, as application/scim+json.",
        modules: &[Module { prefixes: &["/scim/v2/"], dialect: Dialect::Scim, routes: scim::routes }],
        documented: true,
    },
    Surface {
        id: "system",
        title: "System",
        tags: &["system", "docs"],
        prefix: "/health",
        summary: "Health, readiness, metrics and this documentation.",
        intro: "For load balancers, supervisors and monitoring: /health (the database answers), /ready (writes go through), /metrics (Prometheus; staff, or public when configured), and the documentation itself. No credentials except /metrics. Errors are DRF's {\"detail\": …}.",
        modules: &[
            Module { prefixes: &["/health", "/ready", "/metrics"], dialect: Dialect::Drf, routes: system::routes },
            Module { prefixes: &["/api-docs/"], dialect: Dialect::Drf, routes: docs::routes },
            // The front page: `/` exactly.
            Module { prefixes: &["/"], dialect: Dialect::Drf, routes: home::routes },
        ],
        documented: true,
    },
    // The admin console's HTML pages: routed like the API, not part of its document.
    Surface {
        id: "console",
        title: "Admin console",
        tags: &[],
        prefix: "/admin/",
        summary: "The school's web console: courses, rosters, batches, codes, OAuth and SCIM tokens.",
        intro: "Signed-in staff in a browser; CSRF token in every form. Errors are HTML pages.",
        modules: &[Module { prefixes: &["/admin/"], dialect: Dialect::Console, routes: admin::routes }],
        documented: false,
    },
];

/// Every route of the documented surfaces, in the reference's order.
pub fn documented_routes() -> Vec<Route> {
    SURFACES.iter().filter(|s| s.documented).flat_map(|s| s.modules).flat_map(|m| (m.routes)()).collect()
}

/// Every route the server answers: the documented ones and the console's pages.
pub fn all_routes() -> Vec<Route> {
    SURFACES.iter().flat_map(|s| s.modules).flat_map(|m| (m.routes)()).collect()
}

/// The error dialect of a path that no route matches: that of the module whose prefix
/// claims it most closely; DRF's for paths outside every surface.
pub fn dialect_for_path(path: &str) -> Dialect {
    SURFACES
        .iter()
        .flat_map(|s| s.modules)
        .filter_map(|m| m.claims(path).map(|len| (len, m.dialect)))
        .max_by_key(|(len, _)| *len)
        .map_or(Dialect::Drf, |(_, dialect)| dialect)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry is the map from URL to code: a route outside its module's prefixes, or
    /// a prefix two modules claim, would make it lie.
    #[test]
    fn every_route_starts_with_a_prefix_of_its_module_and_each_prefix_has_one_module() {
        let mut seen = std::collections::BTreeSet::new();
        for surface in &SURFACES {
            let prefixes: Vec<&str> = surface.modules.iter().flat_map(|m| m.prefixes.iter().copied()).collect();
            assert!(
                prefixes.contains(&surface.prefix),
                "{}: {} is none of its modules' prefixes",
                surface.id,
                surface.prefix
            );
            for module in surface.modules {
                for prefix in module.prefixes {
                    assert!(seen.insert(*prefix), "{prefix} is claimed twice");
                }
                for route in (module.routes)() {
                    assert!(
                        module.claims(route.path).is_some(),
                        "{} {} is outside {:?}",
                        route.method,
                        route.path,
                        module.prefixes
                    );
                    assert!(
                        surface.tags.contains(&route.doc.tag) || !surface.documented,
                        "{} has tag {}",
                        route.path,
                        route.doc.tag
                    );
                }
            }
        }
    }

    #[test]
    fn an_unmatched_path_gets_the_dialect_of_the_module_whose_prefix_claims_it() {
        assert!(matches!(dialect_for_path("/api/enrollment/v2/nope"), Dialect::V2));
        assert!(matches!(dialect_for_path("/admin"), Dialect::Console));
        assert!(matches!(dialect_for_path("/scim/v2/Nope"), Dialect::Scim));
        assert!(matches!(dialect_for_path("/api/v1/enrollments/x"), Dialect::Checkout));
        // Only checkout's own URLs are checkout's: other `/api/v1/` paths belong to no surface.
        assert!(matches!(dialect_for_path("/api/v1/other"), Dialect::Drf));
        assert!(matches!(dialect_for_path("/nope"), Dialect::Drf));
    }
}
