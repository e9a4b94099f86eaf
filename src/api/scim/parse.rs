//! SCIM's request language, parsed once at the edge: attribute paths, filters (RFC 7644
//! §3.4.2.2: `eq` and `and`, which is what Entra ID and Okta send), PATCH operations
//! (§3.5.2, with Entra's capitalised ops, its `"False"` strings and path-less values whose
//! keys are paths) and whole resources. Attribute names and operators compare
//! case-insensitively; attributes Rollcall does not keep are accepted and ignored.

use crate::core::scim::{bad_request, scim_type, GroupColumn, UserChange, UserColumn, UserInput};
use crate::core::scim_groups::{GroupChange, GroupInput};
use crate::core::Error;
use crate::domain::{Email, Username};
use serde_json::{Map, Value};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";

/// `attribute[selector].sub`, lower-cased, the core schema's URN taken off.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributePath {
    pub attribute: String,
    /// `[sub eq "value"]`: (sub-attribute, value).
    pub selector: Option<(String, String)>,
    pub sub: Option<String>,
}

/// A path into an extension schema (enterprise, Entra's ADSCIM): accepted, not kept.
const EXTENSION: &str = "$extension";

fn invalid_filter(message: impl Into<String>) -> Error {
    bad_request(scim_type::INVALID_FILTER, message)
}

fn invalid_path(message: impl Into<String>) -> Error {
    bad_request(scim_type::INVALID_PATH, message)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokens(text: &str) -> Result<Vec<Token>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            c if c.is_whitespace() => i += 1,
            '(' => (out.push(Token::Open), i += 1).1,
            ')' => (out.push(Token::Close), i += 1).1,
            '[' => (out.push(Token::OpenBracket), i += 1).1,
            ']' => (out.push(Token::CloseBracket), i += 1).1,
            '"' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i >= chars.len() {
                    return Err(invalid_filter(format!("Unterminated string in '{text}'.")));
                }
                let literal: String = chars[start..=i].iter().collect();
                let value: String = serde_json::from_str(&literal)
                    .map_err(|_| invalid_filter(format!("Bad string {literal} in '{text}'.")))?;
                out.push(Token::Text(value));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()[]\"".contains(chars[i]) {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// An attribute name as written (maybe with a schema URN), lower-cased and split.
fn attribute_name(raw: &str) -> Result<(String, Option<String>), Error> {
    let lower = raw.to_ascii_lowercase();
    let name = match lower.strip_prefix(USER_URN).or_else(|| lower.strip_prefix(GROUP_URN)) {
        Some(rest) => rest.to_owned(),
        None if lower.starts_with("urn:") => return Ok((EXTENSION.to_owned(), None)),
        None => lower,
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
    };
    let (attribute, sub) = match name.split_once('.') {
        Some((a, s)) => (a.to_owned(), Some(s.to_owned())),
        None => (name, None),
    };
    if !valid(&attribute) || sub.as_deref().is_some_and(|s| !valid(s)) {
        return Err(invalid_path(format!("'{raw}' is not an attribute path.")));
    }
    Ok((attribute, sub))
}

/// A PATCH `path`: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`.
pub fn path(raw: &str) -> Result<AttributePath, Error> {
    let raw = raw.trim();
    let Some((head, rest)) = raw.split_once('[') else {
        let (attribute, sub) = attribute_name(raw)?;
        return Ok(AttributePath { attribute, selector: None, sub });
    };
    let (inside, after) = rest.rsplit_once(']').ok_or_else(|| invalid_path(format!("'{raw}' lacks a ']'.")))?;
    let (attribute, None) = attribute_name(head)? else {
        return Err(invalid_path(format!("'{raw}': a filter goes after the attribute, not its sub-attribute.")));
    };
    let selector = match tokens(inside).map_err(|e| invalid_path(e.developer_message))?.as_slice() {
        [Token::Word(sub), Token::Word(op), value] if op.eq_ignore_ascii_case("eq") => {
            (sub.to_ascii_lowercase(), literal(value).ok_or_else(|| invalid_path(format!("'{raw}': bad value.")))?)
        }
        _ => return Err(invalid_path(format!("'{raw}': only [sub eq \"value\"] filters are supported in paths."))),
    };
    let sub = match after {
        "" => None,
        s => Some(attribute_name(s.strip_prefix('.').ok_or_else(|| invalid_path(format!("'{raw}'")))?)?.0),
    };
    Ok(AttributePath { attribute, selector: Some(selector), sub })
}

fn literal(token: &Token) -> Option<String> {
    match token {
        Token::Text(s) => Some(s.clone()),
        Token::Word(w) => Some(w.to_ascii_lowercase()),
        _ => None,
    }
}

/// A filter as a list of `attribute eq value` conditions joined by `and`.
fn comparisons(text: &str) -> Result<Vec<(AttributePath, String)>, Error> {
    let tokens = tokens(text)?;
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0;
    let word = |t: Option<&Token>, w: &str| matches!(t, Some(Token::Word(x)) if x.eq_ignore_ascii_case(w));
    loop {
        while tokens.get(i) == Some(&Token::Open) {
            depth += 1;
            i += 1;
        }
        let Some(Token::Word(name)) = tokens.get(i) else {
            return Err(invalid_filter(format!("Expected an attribute in '{text}'.")));
        };
        i += 1;
        let mut raw_path = name.clone();
        if tokens.get(i) == Some(&Token::OpenBracket) {
            let close = tokens[i..]
                .iter()
                .position(|t| *t == Token::CloseBracket)
                .ok_or_else(|| invalid_filter(format!("Unclosed '[' in '{text}'.")))?;
            let inner: Vec<String> = tokens[i + 1..i + close]
                .iter()
                .map(|t| match t {
                    Token::Text(s) => serde_json::to_string(s).unwrap_or_default(),
                    Token::Word(w) => w.clone(),
                    _ => String::new(),
                })
                .collect();
            raw_path = format!("{raw_path}[{}]", inner.join(" "));
            i += close + 1;
            if let Some(Token::Word(sub)) = tokens.get(i).filter(|_| !word(tokens.get(i), "and")) {
                if let Some(sub) = sub.strip_prefix('.') {
                    raw_path = format!("{raw_path}.{sub}");
                    i += 1;
                }
            }
        }
        let attribute = path(&raw_path).map_err(|e| invalid_filter(e.developer_message))?;
        let value = if attribute.selector.is_some() && attribute.sub.is_none() && !word(tokens.get(i), "eq") {
            // `members[value eq "x"]` on its own: the selector is the condition.
            None
        } else {
            match tokens.get(i) {
                Some(Token::Word(op)) if op.eq_ignore_ascii_case("eq") => {}
                Some(Token::Word(op)) => {
                    return Err(invalid_filter(format!("The operator '{op}' is not supported; use eq (and 'and').")))
                }
                _ => return Err(invalid_filter(format!("Expected an operator after {raw_path} in '{text}'."))),
            }
            let value = tokens
                .get(i + 1)
                .and_then(literal)
                .ok_or_else(|| invalid_filter(format!("Expected a value in '{text}'.")))?;
            i += 2;
            Some(value)
        };
        match value {
            Some(v) => out.push((attribute, v)),
            None => {
                let (sub, v) = attribute.selector.clone().unwrap_or_default();
                out.push((AttributePath { selector: None, sub: Some(sub), ..attribute }, v));
            }
        }
        while tokens.get(i) == Some(&Token::Close) && depth > 0 {
            depth -= 1;
            i += 1;
        }
        match tokens.get(i) {
            None if depth == 0 => return Ok(out),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => i += 1,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("or") || w.eq_ignore_ascii_case("not") => {
                return Err(invalid_filter(format!("'{w}' is not supported in filters; use eq and 'and'.")))
            }
            _ => return Err(invalid_filter(format!("Cannot read the filter '{text}'."))),
        }
    }
}

fn unsupported_filter(path: &AttributePath) -> Error {
    invalid_filter(format!("Filtering on '{}' is not supported.", path.attribute))
}

/// A Users filter: userName, externalId, id and the work email.
pub fn user_filter(text: &str) -> Result<Vec<UserColumn>, Error> {
    let mut out = Vec::new();
    for (path, value) in comparisons(text)? {
        let column = match (path.attribute.as_str(), &path.selector, path.sub.as_deref()) {
            ("username", None, None) => UserColumn::Username(value),
            ("externalid", None, None) => UserColumn::ExternalId(value),
            ("id", None, None) => value.parse().map(UserColumn::Id).unwrap_or(UserColumn::Nothing),
            ("emails", selector, None | Some("value")) => match selector {
                None => UserColumn::Email(value),
                Some((sub, wanted)) if is_work_email(sub, wanted) => UserColumn::Email(value),
                Some(_) => UserColumn::Nothing,
            },
            _ => return Err(unsupported_filter(&path)),
        };
        out.push(column);
    }
    Ok(out)
}

/// The one email an account has is shown as the primary work email.
fn is_work_email(sub: &str, value: &str) -> bool {
    (sub == "type" && value.eq_ignore_ascii_case("work")) || (sub == "primary" && value == "true")
}

/// A Groups filter: displayName, externalId, id and members.
pub fn group_filter(text: &str) -> Result<Vec<GroupColumn>, Error> {
    let mut out = Vec::new();
    for (path, value) in comparisons(text)? {
        let column = match (path.attribute.as_str(), &path.selector, path.sub.as_deref()) {
            ("displayname", None, None) => GroupColumn::DisplayName(value),
            ("externalid", None, None) => GroupColumn::ExternalId(value),
            ("id", None, None) => value.parse().map(GroupColumn::Id).unwrap_or(GroupColumn::Nothing),
            ("members", None, None | Some("value")) => {
                value.parse().map(GroupColumn::Member).unwrap_or(GroupColumn::Nothing)
            }
            _ => return Err(unsupported_filter(&path)),
        };
        out.push(column);
    }
    Ok(out)
}

/// A JSON object with its keys lower-cased (SCIM attribute names are case-insensitive).
fn lower_keys(value: &Value) -> Option<Map<String, Value>> {
    Some(value.as_object()?.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
}

fn invalid_value(message: impl Into<String>) -> Error {
    bad_request(scim_type::INVALID_VALUE, message)
}

fn text(name: &str, value: &Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        _ => Err(invalid_value(format!("{name} must be a string."))),
    }
}

/// `active`: a boolean, or Entra's "True"/"False" strings.
fn flag(value: &Value) -> Result<bool, Error> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid_value(format!("active must be true or false, not {value}."))),
    }
}

fn user_name(value: &Value) -> Result<Username, Error> {
    let raw = text("userName", value)?.ok_or_else(|| invalid_value("userName is required."))?;
    // Names that predate the rules for new usernames still identify their accounts; the
    // core holds new names to those rules.
    Username::existing(&raw).map_err(|e| invalid_value(format!("userName: {}", e.0)))
}

fn email(raw: &Value) -> Result<Email, Error> {
    let text = text("emails.value", raw)?.ok_or_else(|| invalid_value("An email needs a value."))?;
    Email::parse(&text).map_err(|e| invalid_value(format!("emails: {}", e.0)))
}

/// The address to keep from `emails`: the primary one, else the work one, else the first.
fn pick_email(value: &Value) -> Result<Option<Email>, Error> {
    let list: Vec<Map<String, Value>> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().filter_map(lower_keys).collect(),
        Value::Object(_) => lower_keys(value).into_iter().collect(),
        _ => return Err(invalid_value("emails must be a list of {value, type, primary}.")),
    };
    let chosen = list
        .iter()
        .find(|e| e.get("primary").is_some_and(|p| flag(p).unwrap_or(false)))
        .or_else(|| {
            list.iter().find(|e| e.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work")))
        })
        .or_else(|| list.first());
    chosen.map(|e| email(e.get("value").unwrap_or(&Value::Null))).transpose()
}

fn strings_of(value: &Value) -> Result<Vec<String>, Error> {
    let items = match value {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![value.clone()],
        Value::Null => Vec::new(),
        _ => return Err(invalid_value("members must be a list of {\"value\": id}.")),
    };
    items
        .iter()
        .map(|item| match lower_keys(item).and_then(|m| m.get("value").cloned()) {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(invalid_value("Each member needs a \"value\" (the User's id).")),
        })
        .collect()
}

/// POST and PUT /Users bodies.
pub fn user_input(body: &Value) -> Result<UserInput, Error> {
    let map = lower_keys(body).ok_or_else(|| invalid_value("The body must be a JSON object."))?;
    let get = |k: &str| map.get(k).unwrap_or(&Value::Null);
    let name = lower_keys(get("name")).unwrap_or_default();
    let name_part = |k: &str| text(&format!("name.{k}"), name.get(k).unwrap_or(&Value::Null));
    Ok(UserInput {
        user_name: user_name(get("username"))?,
        external_id: text("externalId", get("externalid"))?,
        formatted: name_part("formatted")?,
        display_name: text("displayName", get("displayname"))?,
        given_name: name_part("givenname")?,
        family_name: name_part("familyname")?,
        email: pick_email(get("emails"))?,
        active: map.get("active").filter(|v| !v.is_null()).map(flag).transpose()?,
    })
}

fn display_name(value: &Value) -> Result<String, Error> {
    text("displayName", value)?
        .filter(|s| !s.is_empty() && s.chars().count() <= 255)
        .ok_or_else(|| invalid_value("displayName must be 1 to 255 characters."))
}

/// POST and PUT /Groups bodies.
pub fn group_input(body: &Value) -> Result<GroupInput, Error> {
    let map = lower_keys(body).ok_or_else(|| invalid_value("The body must be a JSON object."))?;
    let get = |k: &str| map.get(k).unwrap_or(&Value::Null);
    Ok(GroupInput {
        display_name: display_name(get("displayname"))?,
        external_id: text("externalId", get("externalid"))?,
        members: strings_of(get("members"))?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Replace,
    Remove,
}

struct Operation {
    op: Op,
    path: Option<String>,
    value: Option<Value>,
}

fn operations(body: &Value) -> Result<Vec<Operation>, Error> {
    let syntax = |m: &str| bad_request(scim_type::INVALID_SYNTAX, m.to_owned());
    let map = lower_keys(body).ok_or_else(|| syntax("The body must be a PatchOp object."))?;
    let list =
        map.get("operations").and_then(Value::as_array).ok_or_else(|| syntax("A PatchOp needs Operations: [...]."))?;
    list.iter()
        .map(|item| {
            let op = lower_keys(item).ok_or_else(|| syntax("Each operation must be an object."))?;
            let kind = match op.get("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Op::Add,
                Some("replace") => Op::Replace,
                Some("remove") => Op::Remove,
                _ => return Err(syntax("Each operation's op must be add, replace or remove.")),
            };
            let path = match op.get("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if !p.trim().is_empty() => Some(p.clone()),
                Some(_) => return Err(invalid_path("path must be a non-empty string.")),
            };
            let value = op.get("value").cloned();
            if kind != Op::Remove && value.is_none() {
                return Err(invalid_value("add and replace need a value."));
            }
            if kind == Op::Remove && path.is_none() {
                return Err(bad_request(scim_type::NO_TARGET, "remove needs a path."));
            }
            Ok(Operation { op: kind, path, value })
        })
        .collect()
}

/// Path-less add and replace: each key of the value object is a path of its own (Okta
/// sends attributes, Entra sends paths such as "name.givenName").
fn each_path(operation: &Operation) -> Result<Vec<(AttributePath, Option<Value>)>, Error> {
    match &operation.path {
        Some(p) => Ok(vec![(path(p)?, operation.value.clone())]),
        None => {
            let object = operation
                .value
                .as_ref()
                .and_then(Value::as_object)
                .ok_or_else(|| invalid_value("Without a path, the value must be an object of attributes."))?;
            object.iter().map(|(k, v)| Ok((path(k)?, Some(v.clone())))).collect()
        }
    }
}

/// A PatchOp for a User, as changes in order.
pub fn user_changes(body: &Value) -> Result<Vec<UserChange>, Error> {
    let mut out = Vec::new();
    for operation in operations(body)? {
        let remove = operation.op == Op::Remove;
        for (path, value) in each_path(&operation)? {
            let value = if remove { Value::Null } else { value.unwrap_or(Value::Null) };
            let name_part = |sub: &str, v: &Value| -> Result<Option<UserChange>, Error> {
                let v = text(&format!("name.{sub}"), v)?;
                Ok(match sub {
                    "givenname" => Some(UserChange::GivenName(v)),
                    "familyname" => Some(UserChange::FamilyName(v)),
                    "formatted" => Some(UserChange::Formatted(v)),
                    _ => None,
                })
            };
            match (path.attribute.as_str(), &path.selector, path.sub.as_deref()) {
                ("username", None, None) if remove => out.push(UserChange::UserName(None)),
                ("username", None, None) => out.push(UserChange::UserName(Some(user_name(&value)?))),
                ("externalid", None, None) => out.push(UserChange::ExternalId(text("externalId", &value)?)),
                ("displayname", None, None) => out.push(UserChange::Formatted(text("displayName", &value)?)),
                ("active", None, None) if !remove => out.push(UserChange::Active(flag(&value)?)),
                ("name", None, None) => {
                    let parts = if remove {
                        ["givenname", "familyname", "formatted"].iter().map(|k| (k.to_string(), Value::Null)).collect()
                    } else {
                        lower_keys(&value).ok_or_else(|| invalid_value("name must be an object."))?
                    };
                    for (sub, v) in &parts {
                        out.extend(name_part(sub, v)?);
                    }
                }
                ("name", None, Some(sub)) => out.extend(name_part(sub, &value)?),
                ("emails", selector, sub) => {
                    let ours = selector.as_ref().is_none_or(|(s, v)| is_work_email(s, v));
                    match (ours, sub) {
                        (false, _) => {}
                        (true, _) if remove => out.push(UserChange::Email(None)),
                        (true, Some("value")) => out.push(UserChange::Email(Some(email(&value)?))),
                        (true, None) => out.push(UserChange::Email(pick_email(&value)?)),
                        (true, Some(_)) => {}
                    }
                }
                // Attributes Rollcall does not keep (phoneNumbers, locale, roles, password,
                // extension schemas): accepted, not kept.
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A PatchOp for a Group, as changes in order.
pub fn group_changes(body: &Value) -> Result<Vec<GroupChange>, Error> {
    let mut out = Vec::new();
    for operation in operations(body)? {
        let op = operation.op;
        for (path, value) in each_path(&operation)? {
            let value = value.unwrap_or(Value::Null);
            match (path.attribute.as_str(), &path.selector, path.sub.as_deref(), op) {
                ("displayname", None, None, Op::Remove) => {
                    return Err(bad_request(scim_type::MUTABILITY, "displayName is required and cannot be removed."))
                }
                ("displayname", None, None, _) => out.push(GroupChange::DisplayName(display_name(&value)?)),
                ("externalid", None, None, Op::Remove) => out.push(GroupChange::ExternalId(None)),
                ("externalid", None, None, _) => out.push(GroupChange::ExternalId(text("externalId", &value)?)),
                ("members", None, None, Op::Add) => out.push(GroupChange::AddMembers(strings_of(&value)?)),
                ("members", None, None, Op::Replace) => out.push(GroupChange::ReplaceMembers(strings_of(&value)?)),
                ("members", None, None, Op::Remove) if value.is_null() => out.push(GroupChange::RemoveAllMembers),
                ("members", None, None, Op::Remove) => out.push(GroupChange::RemoveMembers(strings_of(&value)?)),
                ("members", Some((sub, id)), None, Op::Remove) if sub == "value" => {
                    out.push(GroupChange::RemoveMembers(vec![id.clone()]))
                }
                ("members", Some((sub, id)), None, _) if sub == "value" => {
                    out.push(GroupChange::AddMembers(vec![id.clone()]))
                }
                ("members", _, _, _) => {
                    return Err(invalid_path(format!("Unsupported members path: {:?}.", operation.path)))
                }
                // id, meta and what Rollcall does not keep.
                _ => {}
            }
        }
    }
    Ok(out)
}

/// `attributes` / `excludedAttributes`: comma-separated paths, lower-cased, URN taken off.
pub fn attribute_list(raw: Option<String>) -> Result<Vec<(String, Option<String>)>, Error> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(attribute_name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_read_as_entra_and_okta_send_them() {
        assert_eq!(user_filter("userName eq \"ann\"").unwrap(), vec![UserColumn::Username("ann".into())]);
        assert_eq!(user_filter("USERNAME EQ \"ann\"").unwrap(), vec![UserColumn::Username("ann".into())]);
        assert_eq!(
            user_filter("emails[type eq \"work\"].value eq \"a@x.org\" and externalId eq \"E1\"").unwrap(),
            vec![UserColumn::Email("a@x.org".into()), UserColumn::ExternalId("E1".into())]
        );
        assert_eq!(
            group_filter("(displayName eq \"Year 9\")").unwrap(),
            vec![GroupColumn::DisplayName("Year 9".into())]
        );
        assert_eq!(
            group_filter("id eq \"3\" and members[value eq \"7\"]").unwrap(),
            vec![GroupColumn::Id(3), GroupColumn::Member(7)]
        );
        for bad in [
            "userName",
            "userName eq",
            "userName sw \"a\"",
            "userName eq \"a\" or id eq \"1\"",
            "name.givenName eq \"x\"",
            "userName eq \"a",
            "(userName eq \"a\"",
        ] {
            let e = user_filter(bad).unwrap_err();
            assert_eq!(e.code(), "invalidFilter", "{bad}");
        }
    }

    #[test]
    fn patches_read_entras_and_oktas_operations() {
        let entra = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"},
            {"op": "Replace", "path": "name.familyName", "value": "Lee"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "1"}]});
        assert_eq!(
            user_changes(&entra).unwrap(),
            vec![
                UserChange::Email(Some(Email::parse("new@x.org").unwrap())),
                UserChange::FamilyName(Some("Lee".into())),
                UserChange::Active(false)
            ]
        );
        let okta = json!({"Operations": [{"op": "replace", "value": {"active": false, "name.givenName": "Ann"}}]});
        assert_eq!(
            user_changes(&okta).unwrap(),
            vec![UserChange::Active(false), UserChange::GivenName(Some("Ann".into()))]
        );
        let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"12\"]"}]});
        assert_eq!(group_changes(&remove).unwrap(), vec![GroupChange::RemoveMembers(vec!["12".into()])]);
        for bad in [
            json!({}),
            json!({"Operations": [{"op": "move", "path": "x"}]}),
            json!({"Operations": [{"op": "remove"}]}),
            json!({"Operations": [{"op": "replace", "path": "members[value", "value": 1}]}),
        ] {
            assert!(group_changes(&bad).is_err(), "{bad}");
        }
    }
}
