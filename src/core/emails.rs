//! The learner emails Open edX's instructor enrollment sends (message types
//! `enrolled_enroll`, `allowed_enroll`, `enrolled_unenroll`, `allowed_unenroll`), rendered
//! from an outbox payload into a subject, a plain-text part and an HTML part.

use serde_json::Value;

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where links in emails point: Rollcall's own pages (set-password) are under
/// `base_url`; courses and registration live on the LMS, when one is configured.
pub struct Site<'a> {
    pub school_name: &'a str,
    pub base_url: &'a str,
    pub lms_base_url: Option<&'a str>,
}

/// Escaped text with its http(s) URLs made links (trailing punctuation stays text).
fn linkify(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let trimmed = word.trim_end_matches(['.', ',', ')', ';', ':']);
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            let url = escape(trimmed);
            out.push_str(&format!("<a href=\"{url}\">{url}</a>{}", escape(&word[trimmed.len()..])));
        } else {
            out.push_str(&escape(word));
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The message types, and the parts a template directory may override for each.
pub const MESSAGE_TYPES: [&str; 10] = [
    "enrolled_enroll",
    "allowed_enroll",
    "enrolled_unenroll",
    "allowed_unenroll",
    "set_password",
    "account_created",
    "checkout_welcome",
    "email_change",
    "enrollment_expiring",
    "waitlist_promoted",
];
const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

/// The variables a template may use (`{{name}}`); one missing for a message is empty.
pub const VARIABLES: [&str; 13] = [
    "school_name",
    "site_url",
    "full_name",
    "username",
    "course_name",
    "course_key",
    "course_url",
    "registration_url",
    "reason",
    "auto_enroll",
    "link",
    "enrollment_number",
    "access_end",
];

/// Overrides from `email.templates_dir`: `<message type>.<part>` files (`subject.txt`,
/// `txt`, `html`); values are HTML-escaped in `.html` parts.
#[derive(Debug, Default, Clone)]
pub struct Templates {
    parts: std::collections::HashMap<String, String>,
}

impl Templates {
    /// Reads and checks every file: a name that is not `<type>.<part>`, a `{{…}}` naming no
    /// variable, or an unclosed `{{` stops start-up naming the file.
    pub fn load(dir: &std::path::Path) -> Result<Templates, String> {
        let mut parts = std::collections::HashMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("email.templates_dir {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let known = MESSAGE_TYPES.iter().any(|t| PARTS.iter().any(|p| name == format!("{t}.{p}")));
            if !known {
                return Err(format!(
                    "{}: not a template name; use <type>.subject.txt, <type>.txt or <type>.html with a type of {}",
                    path.display(),
                    MESSAGE_TYPES.join(", ")
                ));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            check_template(&text).map_err(|why| format!("{}: {why}", path.display()))?;
            parts.insert(name, text);
        }
        Ok(Templates { parts })
    }

    fn part(&self, message_type: &str, part: &str) -> Option<&str> {
        self.parts.get(&format!("{message_type}.{part}")).map(String::as_str)
    }
}

fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").ok_or("a '{{' is not closed")?;
        let name = rest[start + 2..start + end].trim();
        if !VARIABLES.contains(&name) {
            return Err(format!("unknown variable '{{{{{name}}}}}'; the variables are {}", VARIABLES.join(", ")));
        }
        rest = &rest[start + end + 2..];
    }
    Ok(())
}

fn fill(template: &str, vars: &[(&str, String)], html: bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").map_or(rest.len(), |e| start + e);
        let name = rest[start + 2..end].trim();
        let value = vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("");
        out.push_str(&if html { escape(value) } else { value.to_owned() });
        rest = rest.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The message as `templates` override it, part by part, over the built-in wording.
pub fn render_with(message_type: &str, payload: &Value, site: &Site, templates: &Templates) -> Option<Rendered> {
    let built_in = render(message_type, payload, site)?;
    let text_of = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let course_key = text_of("course_key");
    let vars: Vec<(&str, String)> = vec![
        ("school_name", site.school_name.to_owned()),
        ("site_url", site.base_url.to_owned()),
        ("full_name", text_of("full_name")),
        ("username", text_of("username")),
        ("course_name", text_of("course_name")),
        ("course_key", course_key.clone()),
        ("course_url", site.lms_base_url.map(|lms| format!("{lms}/courses/{course_key}/about")).unwrap_or_default()),
        ("registration_url", site.lms_base_url.map(|lms| format!("{lms}/register")).unwrap_or_default()),
        ("reason", text_of("reason")),
        ("auto_enroll", payload.get("auto_enroll").and_then(Value::as_bool).unwrap_or(false).to_string()),
        ("link", text_of("link")),
        ("enrollment_number", text_of("enrollment_number")),
        ("access_end", text_of("access_end")),
    ];
    let pick = |part: &str, html: bool, default: String| match templates.part(message_type, part) {
        Some(t) => fill(t, &vars, html),
        None => default,
    };
    Some(Rendered {
        subject: pick("subject.txt", false, built_in.subject).trim().to_owned(),
        text: pick("txt", false, built_in.text),
        html: pick("html", true, built_in.html),
    })
}

/// None for a message type this module does not know (the outbox then marks it failed).
pub fn render(message_type: &str, payload: &Value, site: &Site) -> Option<Rendered> {
    let text_of = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let course_name = text_of("course_name");
    let course_key = text_of("course_key");
    let full_name = payload.get("full_name").and_then(Value::as_str).map(str::to_owned);
    let reason = payload.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty()).map(str::to_owned);
    let auto_enroll = payload.get("auto_enroll").and_then(Value::as_bool).unwrap_or(false);
    let course_url = site.lms_base_url.map(|lms| format!("{lms}/courses/{course_key}/about"));
    let registration_url = site.lms_base_url.map(|lms| format!("{lms}/register"));
    let visit = |what: &str| match &course_url {
        Some(url) => format!("{what} {url}"),
        None => format!("{what} the course page of {course_name}."),
    };
    let register_at = match &registration_url {
        Some(url) => format!("create an account at {url}"),
        None => format!("create an account at {}", site.school_name),
    };
    let school = site.school_name;
    let greeting = match &full_name {
        Some(name) => format!("Dear {name},"),
        None => "Dear student,".to_owned(),
    };
    let (subject, paragraphs): (String, Vec<String>) = match message_type {
        "enrolled_enroll" => (
            format!("You have been enrolled in {course_name}"),
            vec![
                format!("You have been enrolled in {course_name} at {school} by a member of the course staff."),
                visit("The course is now in your dashboard. Visit it at"),
            ],
        ),
        "allowed_enroll" => (
            format!("You have been invited to register for {course_name}"),
            vec![
                format!("You have been invited to join {course_name} at {school} by a member of the course staff."),
                if auto_enroll {
                    format!("To finish your registration, {register_at}. Once you have registered and activated your account, you will see {course_name} in your dashboard.")
                } else {
                    format!("To access the course, {register_at}, then enroll from {}", course_url.clone().unwrap_or_else(|| "its course page.".to_owned()))
                },
            ],
        ),
        "enrolled_unenroll" => (
            format!("You have been unenrolled from {course_name}"),
            vec![format!("You have been unenrolled from {course_name} at {school} by a member of the course staff. The course will no longer appear in your dashboard.")],
        ),
        "allowed_unenroll" => (
            format!("You have been uninvited from {course_name}"),
            vec![format!("The invitation to join {course_name} at {school} has been withdrawn by a member of the course staff.")],
        ),
        "set_password" => (
            format!("Set your password at {school}"),
            vec![
                format!("An account with the username {} has been created for you at {school}.", text_of("username")),
                format!("To activate it, choose a password here (the link works once, for 72 hours): {}", text_of("link")),
            ],
        ),
        "account_created" => (
            format!("Your account at {school}"),
            vec![
                format!("An account with the username {} has been created for you at {school}, and it is active.", text_of("username")),
                format!("Sign in at {}", site.lms_base_url.unwrap_or(site.base_url)),
            ],
        ),
        "email_change" => (
            format!("Confirm your new email address at {school}"),
            vec![
                format!("Someone asked to use this address for the account {} at {school}.", text_of("username")),
                format!("If it was you, confirm it here (the link works once, for 24 hours): {}", text_of("link")),
                "If it was not you, ignore this email: nothing changes until the link is followed.".to_owned(),
            ],
        ),
        "checkout_welcome" => (
            format!("Welcome to {course_name}"),
            vec![
                format!("Thank you for enrolling in {course_name} at {school}. Your enrollment number is {}.", text_of("enrollment_number")),
                visit("The course is waiting for you at"),
            ],
        ),
        "enrollment_expiring" => (
            format!("Your access to {course_name} ends soon"),
            vec![
                format!("Your access to {course_name} at {school} ends on {} (UTC).", text_of("access_end")),
                visit("Finish what you are working on before then at"),
            ],
        ),
        "waitlist_promoted" => (
            format!("A seat in {course_name} is yours"),
            vec![
                format!("A seat has opened in {course_name} at {school}, and you were next on the waitlist: you are now enrolled."),
                visit("The course is now in your dashboard. Visit it at"),
            ],
        ),
        _ => return None,
    };
    let mut paragraphs = paragraphs;
    if let Some(reason) = &reason {
        paragraphs.push(format!("Reason: {reason}"));
    }
    let sign_off = format!("----\nThis email was sent by {school} ({}).", site.base_url);
    let text = format!("{greeting}\n\n{}\n\n{sign_off}\n", paragraphs.join("\n\n"));
    // A small, readable layout that survives mail clients: inline styles, no images.
    let html = format!(
        "<!doctype html><html><body style=\"margin:0;padding:24px;background:#f5f5f5\">\
         <div style=\"max-width:560px;margin:0 auto;background:#fff;padding:24px;border-radius:6px;\
         font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#222\">\
         <p>{}</p>{}<hr style=\"border:none;border-top:1px solid #ddd\">\
         <p style=\"font-size:13px;color:#666\">This email was sent by {} (<a href=\"{}\">{}</a>).</p></div></body></html>",
        escape(&greeting),
        paragraphs.iter().map(|p| format!("<p>{}</p>", linkify(p))).collect::<String>(),
        escape(school),
        escape(site.base_url),
        escape(site.base_url)
    );
    Some(Rendered { subject: format!("[{school}] {subject}"), text, html })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_each_message_type_with_reason_and_links() {
        let site = Site {
            school_name: "Hill School",
            base_url: "https://enroll.example",
            lms_base_url: Some("https://learn.example"),
        };
        let payload = json!({"course_key": "course-v1:A+B+C", "course_name": "Biology <1>", "full_name": "Ann", "auto_enroll": true, "reason": "moved section"});
        for message_type in ["enrolled_enroll", "allowed_enroll", "enrolled_unenroll", "allowed_unenroll"] {
            let r = render(message_type, &payload, &site).unwrap();
            assert!(r.subject.contains("Biology <1>"));
            assert!(r.text.contains("Reason: moved section") && r.text.contains("Dear Ann,"));
            assert!(r.html.contains("Biology &lt;1&gt;") && !r.html.contains("<1>"));
        }
        assert!(render("allowed_enroll", &payload, &site).unwrap().text.contains("https://learn.example/register"));
        assert!(render("enrolled_enroll", &payload, &site)
            .unwrap()
            .text
            .contains("https://learn.example/courses/course-v1:A+B+C/about"));
        assert!(render("mystery", &payload, &site).is_none());
        let dir = std::env::temp_dir().join(format!("rollcall-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("enrolled_enroll.subject.txt"), "Welcome to {{ course_name }}\n").unwrap();
        std::fs::write(dir.join("enrolled_enroll.html"), "<p>{{course_name}} at {{school_name}}</p>").unwrap();
        let templates = Templates::load(&dir).unwrap();
        let r = render_with("enrolled_enroll", &payload, &site, &templates).unwrap();
        assert_eq!(r.subject, "Welcome to Biology <1>");
        assert_eq!(r.html, "<p>Biology &lt;1&gt; at Hill School</p>", "values are escaped in HTML");
        assert!(r.text.contains("Dear Ann,"), "parts not overridden keep the built-in text");
        std::fs::write(dir.join("enrolled_enroll.txt"), "Hi {{nmae}}").unwrap();
        assert!(Templates::load(&dir).unwrap_err().contains("enrolled_enroll.txt: unknown variable"));
        std::fs::remove_file(dir.join("enrolled_enroll.txt")).unwrap();
        std::fs::write(dir.join("welcome.html"), "x").unwrap();
        assert!(Templates::load(&dir).unwrap_err().contains("welcome.html: not a template name"));
        let _ = std::fs::remove_dir_all(&dir);
        let html = render("enrolled_enroll", &payload, &site).unwrap().html;
        assert!(html.contains("<a href=\"https://learn.example/courses/course-v1:A+B+C/about\">"), "{html}");
        let no_lms = Site { lms_base_url: None, ..site };
        let text = render("enrolled_enroll", &payload, &no_lms).unwrap().text;
        assert!(!text.contains("/courses/") && text.contains("the course page of Biology <1>"), "{text}");
    }
}
