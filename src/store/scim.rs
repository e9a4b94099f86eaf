//! SCIM provisioning's tables: tokens, what SCIM adds to accounts, groups, their members,
//! their course links and what each link did for each member.

use crate::error::Error;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, ToSql};

#[derive(Debug, Clone)]
pub struct ScimTokenRecord {
    pub id: i64,
    pub name: String,
    pub created: i64,
}

pub fn insert_token(conn: &Connection, name: &str, token_hash: &str, now: i64) -> Result<i64, Error> {
    conn.prepare_cached("INSERT INTO scim_tokens (name, token_hash, created) VALUES (?1, ?2, ?3)")?
        .execute(params![name, token_hash, now])?;
    Ok(conn.last_insert_rowid())
}

pub fn tokens(conn: &Connection) -> Result<Vec<ScimTokenRecord>, Error> {
    let mut stmt = conn.prepare_cached("SELECT id, name, created FROM scim_tokens ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok(ScimTokenRecord { id: r.get(0)?, name: r.get(1)?, created: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn token_by_hash(conn: &Connection, token_hash: &str) -> Result<Option<ScimTokenRecord>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, name, created FROM scim_tokens WHERE token_hash = ?1")?
        .query_row([token_hash], |r| Ok(ScimTokenRecord { id: r.get(0)?, name: r.get(1)?, created: r.get(2)? }))
        .optional()?)
}

pub fn delete_token(conn: &Connection, id: i64) -> Result<bool, Error> {
    Ok(conn.prepare_cached("DELETE FROM scim_tokens WHERE id = ?1")?.execute([id])? > 0)
}

/// What SCIM keeps beside an account.
#[derive(Debug, Clone, Default)]
pub struct ScimUserRow {
    pub external_id: Option<String>,
    pub deleted: bool,
    pub updated: i64,
}

pub fn user_row(conn: &Connection, user_id: i64) -> Result<Option<ScimUserRow>, Error> {
    Ok(conn
        .prepare_cached("SELECT external_id, deleted, updated FROM scim_users WHERE user_id = ?1")?
        .query_row([user_id], |r| Ok(ScimUserRow { external_id: r.get(0)?, deleted: r.get(1)?, updated: r.get(2)? }))
        .optional()?)
}

pub fn save_user_row(conn: &Connection, user_id: i64, row: &ScimUserRow) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO scim_users (user_id, external_id, deleted, updated) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id) DO UPDATE SET external_id = excluded.external_id, deleted = excluded.deleted, updated = excluded.updated",
    )?
    .execute(params![user_id, row.external_id, row.deleted, row.updated])?;
    Ok(())
}

/// One equality a search filter asks for, already mapped to a column.
#[derive(Debug, Clone, PartialEq)]
pub enum UserColumn {
    Id(i64),
    Username(String),
    ExternalId(String),
    Email(String),
    /// A filter that can match nothing (an unknown id, an email type we do not keep).
    Nothing,
}

/// Users visible to SCIM (not superusers, not deleted through SCIM) matching every
/// condition: the total and one page of ids, in id order.
pub fn search_users(
    conn: &Connection,
    conditions: &[UserColumn],
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<i64>), Error> {
    let mut clauses = vec!["u.is_superuser = 0".to_owned(), "COALESCE(s.deleted, 0) = 0".to_owned()];
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    for condition in conditions {
        let clause = match condition {
            UserColumn::Id(id) => {
                values.push(Box::new(*id));
                "u.id = ?"
            }
            // RFC 7643 §4.1.1: userName and emails are caseExact false; externalId is caseExact.
            UserColumn::Username(v) => {
                values.push(Box::new(v.clone()));
                "u.username = ? COLLATE NOCASE"
            }
            UserColumn::Email(v) => {
                values.push(Box::new(v.clone()));
                "u.email = ? COLLATE NOCASE"
            }
            UserColumn::ExternalId(v) => {
                values.push(Box::new(v.clone()));
                "s.external_id = ?"
            }
            UserColumn::Nothing => "0",
        };
        clauses.push(clause.to_owned());
    }
    let from = format!("FROM users u LEFT JOIN scim_users s ON s.user_id = u.id WHERE {}", clauses.join(" AND "));
    let total: i64 =
        conn.prepare(&format!("SELECT COUNT(*) {from}"))?.query_row(params_from_iter(values.iter()), |r| r.get(0))?;
    values.push(Box::new(limit));
    values.push(Box::new(offset));
    let mut stmt = conn.prepare(&format!("SELECT u.id {from} ORDER BY u.id LIMIT ? OFFSET ?"))?;
    let ids = stmt.query_map(params_from_iter(values.iter()), |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok((total, ids))
}

#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created: i64,
    pub updated: i64,
}

pub fn insert_group(conn: &Connection, display_name: &str, external_id: Option<&str>, now: i64) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO scim_groups (display_name, external_id, created, updated) VALUES (?1, ?2, ?3, ?3)",
    )?
    .execute(params![display_name, external_id, now])?;
    Ok(conn.last_insert_rowid())
}

pub fn group(conn: &Connection, id: i64) -> Result<Option<GroupRecord>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, display_name, external_id, created, updated FROM scim_groups WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(GroupRecord {
                id: r.get(0)?,
                display_name: r.get(1)?,
                external_id: r.get(2)?,
                created: r.get(3)?,
                updated: r.get(4)?,
            })
        })
        .optional()?)
}

pub fn update_group(conn: &Connection, group: &GroupRecord) -> Result<(), Error> {
    conn.prepare_cached("UPDATE scim_groups SET display_name = ?2, external_id = ?3, updated = ?4 WHERE id = ?1")?
        .execute(params![group.id, group.display_name, group.external_id, group.updated])?;
    Ok(())
}

pub fn delete_group(conn: &Connection, id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM scim_groups WHERE id = ?1")?.execute([id])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupColumn {
    Id(i64),
    DisplayName(String),
    ExternalId(String),
    Member(i64),
    Nothing,
}

/// Groups matching every condition: the total and one page of ids, in id order.
pub fn search_groups(
    conn: &Connection,
    conditions: &[GroupColumn],
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<i64>), Error> {
    let mut clauses = vec!["1".to_owned()];
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    for condition in conditions {
        let clause = match condition {
            GroupColumn::Id(id) => {
                values.push(Box::new(*id));
                "g.id = ?"
            }
            GroupColumn::DisplayName(v) => {
                values.push(Box::new(v.clone()));
                "g.display_name = ? COLLATE NOCASE"
            }
            GroupColumn::ExternalId(v) => {
                values.push(Box::new(v.clone()));
                "g.external_id = ?"
            }
            GroupColumn::Member(id) => {
                values.push(Box::new(*id));
                "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND m.user_id = ?)"
            }
            GroupColumn::Nothing => "0",
        };
        clauses.push(clause.to_owned());
    }
    let from = format!("FROM scim_groups g WHERE {}", clauses.join(" AND "));
    let total: i64 =
        conn.prepare(&format!("SELECT COUNT(*) {from}"))?.query_row(params_from_iter(values.iter()), |r| r.get(0))?;
    values.push(Box::new(limit));
    values.push(Box::new(offset));
    let mut stmt = conn.prepare(&format!("SELECT g.id {from} ORDER BY g.id LIMIT ? OFFSET ?"))?;
    let ids = stmt.query_map(params_from_iter(values.iter()), |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok((total, ids))
}

/// (user id, username) of a group's members, in user id order.
pub fn members(conn: &Connection, group_id: i64) -> Result<Vec<(i64, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username FROM scim_group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = ?1 ORDER BY u.id",
    )?;
    let rows = stmt.query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// True when the user was not a member yet.
pub fn add_member(conn: &Connection, group_id: i64, user_id: i64) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("INSERT OR IGNORE INTO scim_group_members (group_id, user_id) VALUES (?1, ?2)")?
        .execute([group_id, user_id])?
        > 0)
}

/// True when the user was a member.
pub fn remove_member(conn: &Connection, group_id: i64, user_id: i64) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM scim_group_members WHERE group_id = ?1 AND user_id = ?2")?
        .execute([group_id, user_id])?
        > 0)
}

/// Drops a user from every group without touching their enrollments (SCIM deleted them).
pub fn forget_memberships(conn: &Connection, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM scim_link_members WHERE user_id = ?1")?.execute([user_id])?;
    conn.prepare_cached("DELETE FROM scim_group_members WHERE user_id = ?1")?.execute([user_id])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct LinkRecord {
    pub group_id: i64,
    pub course_id: i64,
    pub course_key: String,
    pub mode: Option<String>,
    pub created: i64,
}

pub fn links(conn: &Connection, group_id: i64) -> Result<Vec<LinkRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.group_id, l.course_id, c.course_key, l.mode, l.created FROM scim_group_courses l \
         JOIN courses c ON c.id = l.course_id WHERE l.group_id = ?1 ORDER BY c.course_key",
    )?;
    let rows = stmt.query_map([group_id], |r| {
        Ok(LinkRecord {
            group_id: r.get(0)?,
            course_id: r.get(1)?,
            course_key: r.get(2)?,
            mode: r.get(3)?,
            created: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates the link, or changes its mode.
pub fn save_link(conn: &Connection, group_id: i64, course_id: i64, mode: Option<&str>, now: i64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO scim_group_courses (group_id, course_id, mode, created) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (group_id, course_id) DO UPDATE SET mode = excluded.mode",
    )?
    .execute(params![group_id, course_id, mode, now])?;
    Ok(())
}

pub fn delete_link(conn: &Connection, group_id: i64, course_id: i64) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM scim_group_courses WHERE group_id = ?1 AND course_id = ?2")?
        .execute([group_id, course_id])?
        > 0)
}

/// What a link did for one member.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMemberRecord {
    pub user_id: i64,
    pub username: String,
    pub status: String,
    pub detail: Option<String>,
    pub updated: i64,
}

pub fn link_member(
    conn: &Connection,
    group_id: i64,
    course_id: i64,
    user_id: i64,
) -> Result<Option<LinkMemberRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT l.user_id, u.username, l.status, l.detail, l.updated FROM scim_link_members l JOIN users u ON u.id = l.user_id \
             WHERE l.group_id = ?1 AND l.course_id = ?2 AND l.user_id = ?3",
        )?
        .query_row([group_id, course_id, user_id], link_member_from_row)
        .optional()?)
}

fn link_member_from_row(r: &rusqlite::Row) -> rusqlite::Result<LinkMemberRecord> {
    Ok(LinkMemberRecord {
        user_id: r.get(0)?,
        username: r.get(1)?,
        status: r.get(2)?,
        detail: r.get(3)?,
        updated: r.get(4)?,
    })
}

pub fn link_members(conn: &Connection, group_id: i64, course_id: i64) -> Result<Vec<LinkMemberRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.user_id, u.username, l.status, l.detail, l.updated FROM scim_link_members l JOIN users u ON u.id = l.user_id \
         WHERE l.group_id = ?1 AND l.course_id = ?2 ORDER BY u.username",
    )?;
    let rows = stmt.query_map([group_id, course_id], link_member_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn save_link_member(
    conn: &Connection,
    group_id: i64,
    course_id: i64,
    user_id: i64,
    status: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO scim_link_members (group_id, course_id, user_id, status, detail, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (group_id, course_id, user_id) DO UPDATE SET status = excluded.status, detail = excluded.detail, updated = excluded.updated",
    )?
    .execute(params![group_id, course_id, user_id, status, detail, now])?;
    Ok(())
}

pub fn delete_link_member(conn: &Connection, group_id: i64, course_id: i64, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM scim_link_members WHERE group_id = ?1 AND course_id = ?2 AND user_id = ?3")?
        .execute([group_id, course_id, user_id])?;
    Ok(())
}

/// Another group's link to the same course that holds this user's enrollment (or found
/// it there): the group that should now own it.
pub fn other_holder(conn: &Connection, group_id: i64, course_id: i64, user_id: i64) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT group_id FROM scim_link_members WHERE course_id = ?1 AND user_id = ?2 AND group_id != ?3 \
             AND status IN ('enrolled', 'present') ORDER BY group_id LIMIT 1",
        )?
        .query_row([course_id, user_id, group_id], |r| r.get(0))
        .optional()?)
}
