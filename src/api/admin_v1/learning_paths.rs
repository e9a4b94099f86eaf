//! `/api/admin/v1/learning-paths`: creating learning paths (bundles of courses).

use super::super::http::{as_bool, as_string, as_text, created, ok, Ctx, Fields};
use super::admin;
use crate::core::learning_paths::{self, NewPath, Viewer};
use crate::core::Error;
use crate::domain::{CourseKey, Description, Fraction, Label, LearningPathKey, Title};
use rouille::Response;
use serde_json::{json, Value};

fn path_json(path: &learning_paths::Path) -> Value {
    let r = path;
    json!({
        "key": r.key, "uuid": r.uuid, "display_name": r.display_name, "subtitle": r.subtitle, "description": r.description, "level": r.level,
        "duration": r.duration, "time_commitment": r.time_commitment, "sequential": r.sequential, "invite_only": r.invite_only,
        "steps": path.steps.iter().map(|s| json!({"course_key": s.course_key, "order": s.position, "weight": s.weight})).collect::<Vec<_>>(),
    })
}

pub(super) fn get_learning_paths(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let everything = Viewer { user_id: None, staff: true };
    let paths = learning_paths::paths_visible_to(&ctx.env.db, everything)?;
    Ok(ok(json!({"results": paths.iter().map(|(p, _)| path_json(p)).collect::<Vec<_>>()})))
}

pub(super) fn post_learning_paths(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&[
        "key",
        "display_name",
        "subtitle",
        "description",
        "level",
        "duration",
        "time_commitment",
        "sequential",
        "invite_only",
        "steps",
        "required_completion",
        "required_grade",
    ]);
    let key = f.required("key", |v| LearningPathKey::parse(&as_string(v)?).map_err(|e| e.0));
    let display_name = f.required("display_name", as_text::<Title>);
    let subtitle = f.get("subtitle", as_text::<Title>).flatten().unwrap_or_default();
    let description = f.get("description", as_text::<Description>).flatten().unwrap_or_default();
    let label = |f: &mut Fields, name: &str| f.get(name, as_text::<Label>).flatten().unwrap_or_default();
    let (level, duration, time_commitment) =
        (label(&mut f, "level"), label(&mut f, "duration"), label(&mut f, "time_commitment"));
    let sequential = f.required_value("sequential", as_bool).unwrap_or(false);
    // The plugin's default: only staff enroll people, and only they see the path.
    let invite_only = f.required_value("invite_only", as_bool).unwrap_or(true);
    // The plugin's LearningPathGradingCriteria defaults.
    let share = |v: &Value| {
        v.as_f64()
            .ok_or("must be a number between 0 and 1".to_owned())
            .and_then(|n| Fraction::parse(n).map_err(|e| e.0))
    };
    let required_completion =
        f.required_value("required_completion", share).unwrap_or(Fraction::parse(0.8).expect("in range"));
    let required_grade = f.required_value("required_grade", share).unwrap_or(Fraction::parse(0.75).expect("in range"));
    let steps = f
        .get("steps", |v| {
            v.as_array()
                .ok_or("must be a list of {course_key, weight}".to_owned())?
                .iter()
                .map(|step| {
                    let key = step.get("course_key").and_then(Value::as_str).ok_or("each step needs a course_key")?;
                    let key = CourseKey::parse(key).map_err(|e| e.0)?;
                    let weight = match step.get("weight") {
                        None | Some(Value::Null) => 1.0,
                        Some(w) => w.as_f64().ok_or("weight must be a number")?,
                    };
                    Ok((key, weight))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .flatten()
        .unwrap_or_default();
    f.finish()?;
    let new = NewPath {
        key: key.expect("checked"),
        display_name: display_name.expect("checked"),
        subtitle,
        description,
        level,
        duration,
        time_commitment,
        sequential,
        invite_only,
        steps,
        required_completion,
        required_grade,
    };
    let path = learning_paths::create_path(&ctx.env.db, new, ctx.now)?;
    Ok(created(path_json(&path)))
}
