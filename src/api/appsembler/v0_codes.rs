//! `/appsembler_api/v0/enrollment-codes/…`: generate, redeem, cancel and restore codes.

use super::super::http::{json, ok, Ctx};
use super::*;
use crate::core::Error;
use rouille::Response;
use serde_json::json;

pub(super) fn post_codes_generate(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let course_id = field(&body, "course_id")?.unwrap_or_default();
    let key = CourseKey::parse(&course_id)
        .map_err(|_| Error::validation(format!("'{course_id}' is not a valid course id.")))?;
    let total = field(&body, "total_registration_codes")?.unwrap_or_default();
    // "2.7" counts as 2, as the original's int(float(…)).
    let count = total
        .trim()
        .parse::<f64>()
        .ok()
        // At most 1,000 a call: a typo must not write a million codes.
        .filter(|n| n.is_finite() && *n >= 0.0 && *n < 1001.0)
        .map(|n| n as usize)
        .ok_or_else(|| Error::validation("total_registration_codes must be a number from 0 to 1000."))?;
    let creator = principal.user().map(|u| u.id);
    let codes = codes::generate_for(&ctx.env.db, &key, count, creator, ctx.now)?;
    // Codes are bearer credentials: no cache keeps them.
    Ok(ok(json!({"course_id": course_id, "codes": codes, "course_url": format!("/courses/{course_id}/about")}))
        .with_additional_header("Cache-Control", "no-store"))
}

pub(super) fn post_codes_enroll_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    // The original's django-ratelimit (`6/m`, a fixed window per caller), checked before
    // each attempt: the first seven invalid codes of a minute are answered, the eighth
    // attempt is a 403. Only invalid codes count, so a school redeeming many valid ones is
    // never stopped.
    let limits = &ctx.env.limits;
    if limits.enabled && limits.code_failures.peek(&principal.key(), ctx.now.unix()).is_err() {
        return Err(Error::forbidden("You do not have permission to perform this action."));
    }
    let email = field(&body, "email")?.unwrap_or_default();
    let code = field(&body, "enrollment_code")?.unwrap_or_default();
    let result = codes::redeem(&ctx.env.db, email.trim(), code.trim(), ctx.now)?;
    Ok(match result {
        Ok(()) => ok(json!({"success": true})),
        Err(reason) => {
            if reason == codes::CODE_NOT_FOUND {
                let _ = limits.check(&limits.code_failures, &principal.key(), ctx.now.unix());
            }
            json(400, &json!({"success": false, "reason": reason}))
        }
    })
}

pub(super) fn post_codes_status(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let code = field(&body, "enrollment_code")?.unwrap_or_default();
    let valid = match field(&body, "action")?.as_deref() {
        Some("cancel") => false,
        Some("restore") => true,
        _ => return Ok(json(400, &json!({"success": false, "reason": "action must be 'cancel' or 'restore'"}))),
    };
    let actor = principal.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into());
    match codes::cancel_or_restore(&ctx.env.db, &code, valid, &actor, ctx.now)? {
        Some(()) => Ok(ok(json!({"success": true}))),
        None => {
            Ok(json(400, &json!({"success": false, "reason": format!("The enrollment code ({code}) was not found")})))
        }
    }
}
