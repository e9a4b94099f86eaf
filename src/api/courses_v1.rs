//! `/api/courses/v1/courses/`: the public catalog, shaped like Open edX's Course API
//! (namespaced pagination, `id`/`name`/`org`/`number`), plus our price and modes.

use super::errors::Dialect;
use super::http::{ok, Ctx, Page};
use super::router::{Doc, Route};
use super::shared::course_json;
use crate::core::catalog::{self};
use crate::core::Error;
use crate::domain::CourseKey;
use rouille::Response;

pub fn routes() -> Vec<Route> {
    let doc = |summary, response| Doc {
        summary,
        tag: "catalog",
        auth: false,
        request: None,
        status: 200,
        response: Some(response),
        query: &[],
    };
    vec![
        Route {
            method: "GET",
            path: "/api/courses/v1/courses/",
            dialect: Dialect::Drf,
            handler: get_courses,
            doc: Doc {
                query: &[("page", "1-based page number"), ("page_size", "items per page (default 10, max 100)")],
                ..doc("List published courses", "PublicCoursePage")
            },
        },
        Route {
            method: "GET",
            path: "/api/courses/v1/courses/{course_key}",
            dialect: Dialect::Drf,
            handler: get_course,
            doc: doc("Get one published course", "PublicCourse"),
        },
    ]
}

fn get_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    let page = Page::from_query(ctx, 10, 100)?;
    let (total, courses) = catalog::courses_page(&ctx.env.db, true, page.offset(), page.size)?;
    let flat = page.body(ctx, total, courses.iter().map(course_json).collect())?;
    // Open edX's course list uses NamespacedPageNumberPagination.
    Ok(super::http::with_etag(ctx, super::http::namespaced_page(&flat)))
}

fn get_course(ctx: &mut Ctx) -> Result<Response, Error> {
    let not_found = || Error::not_found("Not found.");
    let key = CourseKey::parse(ctx.param("course_key")).map_err(|_| not_found())?;
    let course = catalog::published_course(&ctx.env.db, &key)?.ok_or_else(not_found)?;
    Ok(super::http::with_etag(ctx, ok(course_json(&course))))
}
