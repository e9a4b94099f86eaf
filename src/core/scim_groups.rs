//! SCIM Groups (RFC 7643 §4.2) and their links to courses: a member of a linked group is
//! enrolled through the enrollment core (`enroll_user` with the instructor's access: the
//! window and invitation rules are the school's own choice here, capacity still holds),
//! with history under surface `scim`; leaving the group undoes only enrollments the link
//! made. A refusal (a full course) leaves the member in the group and is shown on the link.

use super::scim::{bad_request, check_version, scim_type, visible_user, weak_etag};
use crate::core::catalog::{self, Course};
use crate::core::enrollment::{self, Access, Change, Source};
use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Timestamp};
use crate::store::scim::{GroupColumn, GroupRecord, LinkMemberRecord, LinkRecord};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    /// (user id, username)
    pub members: Vec<(i64, String)>,
    pub created: i64,
    pub last_modified: i64,
}

impl ScimGroup {
    pub fn version(&self) -> String {
        let ids: Vec<i64> = self.members.iter().map(|(id, _)| *id).collect();
        weak_etag(&serde_json::json!([self.display_name, self.external_id, ids]).to_string())
    }
}

fn group_not_found(id: &str) -> Error {
    Error::not_found(format!("No Group with id '{id}' exists."))
}

fn group_record(conn: &Conn, id: &str) -> Result<GroupRecord, Error> {
    let group_id: i64 = id.parse().map_err(|_| group_not_found(id))?;
    store::scim::group(conn, group_id)?.ok_or_else(|| group_not_found(id))
}

fn view(conn: &Conn, group: GroupRecord) -> Result<ScimGroup, Error> {
    Ok(ScimGroup {
        id: group.id,
        members: store::scim::members(conn, group.id)?,
        display_name: group.display_name,
        external_id: group.external_id,
        created: group.created,
        last_modified: group.updated,
    })
}

/// GET /Groups/{id}: the group and its members from one snapshot.
pub fn get_group(db: &Db, id: &str) -> Result<ScimGroup, Error> {
    db.snapshot(|conn| scim_group(conn, id))
}

fn scim_group(conn: &Conn, id: &str) -> Result<ScimGroup, Error> {
    let group = group_record(conn, id)?;
    view(conn, group)
}

/// GET /Groups: one snapshot, so the total and the page agree.
pub fn list_groups(
    db: &Db,
    conditions: &[GroupColumn],
    start_index: i64,
    count: i64,
) -> Result<(i64, Vec<ScimGroup>), Error> {
    db.snapshot(|conn| {
        let (total, ids) = store::scim::search_groups(conn, conditions, start_index - 1, count)?;
        let mut groups = Vec::with_capacity(ids.len());
        for id in ids {
            groups.push(scim_group(conn, &id.to_string())?);
        }
        Ok((total, groups))
    })
}

/// A whole Group as POST and PUT send it; members by their SCIM User id.
#[derive(Debug, Clone)]
pub struct GroupInput {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

/// Who changes membership, for the enrollment history (`scim:<token name>`, or an admin).
pub struct Actor<'a>(pub &'a str);

fn member_user(conn: &Conn, id: &str) -> Result<UserRecord, Error> {
    visible_user(conn, id)
        .map(|(user, _)| user)
        .map_err(|_| bad_request(scim_type::INVALID_VALUE, format!("members: no User with id '{id}' exists.")))
}

/// POST /Groups: its members join the group's linked courses as they are added.
pub fn create_group(db: &Db, input: GroupInput, actor: Actor, now: Timestamp) -> Result<ScimGroup, Error> {
    db.write(|conn| {
        let id = store::scim::insert_group(conn, &input.display_name, input.external_id.as_deref(), now.unix())?;
        let group = store::scim::group(conn, id)?.ok_or_else(|| Error::internal("group vanished after insert"))?;
        let mut wanted = Vec::new();
        for member in &input.members {
            wanted.push(member_user(conn, member)?);
        }
        for user in wanted {
            join(conn, &group, &user, &actor, now)?;
        }
        view(conn, group)
    })
}

/// PUT /Groups/{id}: the name, external id and members, as one PATCH.
pub fn replace_group(
    db: &Db,
    id: &str,
    input: GroupInput,
    if_match: Option<&str>,
    actor: Actor,
    now: Timestamp,
) -> Result<ScimGroup, Error> {
    let changes = vec![
        GroupChange::DisplayName(input.display_name),
        GroupChange::ExternalId(input.external_id),
        GroupChange::ReplaceMembers(input.members),
    ];
    patch_group(db, id, changes, if_match, actor, now)
}

/// One change of a PATCH (or the parts of a PUT), its path resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupChange {
    DisplayName(String),
    ExternalId(Option<String>),
    AddMembers(Vec<String>),
    /// Members that are not in the group (or do not exist) are no error: the outcome the
    /// provider wants already holds.
    RemoveMembers(Vec<String>),
    RemoveAllMembers,
    ReplaceMembers(Vec<String>),
}

/// PATCH /Groups/{id}: every change in order, all or nothing; joining and leaving enroll
/// and unenroll in the group's linked courses.
pub fn patch_group(
    db: &Db,
    id: &str,
    changes: Vec<GroupChange>,
    if_match: Option<&str>,
    actor: Actor,
    now: Timestamp,
) -> Result<ScimGroup, Error> {
    db.write(|conn| {
        let mut group = group_record(conn, id)?;
        check_version(if_match, &view(conn, group.clone())?.version())?;
        for change in changes {
            match change {
                GroupChange::DisplayName(name) => group.display_name = name,
                GroupChange::ExternalId(external_id) => group.external_id = external_id,
                GroupChange::AddMembers(ids) => {
                    let users = ids.iter().map(|id| member_user(conn, id)).collect::<Result<Vec<_>, _>>()?;
                    for user in users {
                        join(conn, &group, &user, &actor, now)?;
                    }
                }
                GroupChange::RemoveMembers(ids) => {
                    for member in ids {
                        let Ok(user_id) = member.parse::<i64>() else { continue };
                        if let Some(user) = store::users::by_id(conn, user_id)? {
                            leave(conn, &group, &user, &actor, now)?;
                        }
                    }
                }
                GroupChange::RemoveAllMembers => set_members(conn, &group, Vec::new(), &actor, now)?,
                GroupChange::ReplaceMembers(ids) => {
                    let users = ids.iter().map(|id| member_user(conn, id)).collect::<Result<Vec<_>, _>>()?;
                    set_members(conn, &group, users, &actor, now)?;
                }
            }
        }
        group.updated = now.unix();
        store::scim::update_group(conn, &group)?;
        view(conn, group)
    })
}

fn set_members(
    conn: &Conn,
    group: &GroupRecord,
    users: Vec<UserRecord>,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), Error> {
    for (member_id, _) in store::scim::members(conn, group.id)? {
        if !users.iter().any(|u| u.id == member_id) {
            if let Some(user) = store::users::by_id(conn, member_id)? {
                leave(conn, group, &user, actor, now)?;
            }
        }
    }
    for user in users {
        join(conn, group, &user, actor, now)?;
    }
    Ok(())
}

/// DELETE /Groups/{id}: members leave its linked courses (only enrollments it made).
pub fn delete_group(db: &Db, id: &str, if_match: Option<&str>, actor: Actor, now: Timestamp) -> Result<(), Error> {
    db.write(|conn| {
        let group = group_record(conn, id)?;
        check_version(if_match, &view(conn, group.clone())?.version())?;
        for link in store::scim::links(conn, group.id)? {
            release_link(conn, &group, &link, &actor, now)?;
        }
        store::scim::delete_group(conn, group.id)
    })
}

fn change<'a>(actor: &'a Actor, reason: &'a str) -> Change<'a> {
    Change { actor: actor.0, surface: "scim", source: Source::ScimGroup, reason: Some(reason), notify: false }
}

fn join(conn: &Conn, group: &GroupRecord, user: &UserRecord, actor: &Actor, now: Timestamp) -> Result<(), Error> {
    if store::scim::add_member(conn, group.id, user.id)? {
        for link in store::scim::links(conn, group.id)? {
            enroll_member(conn, group, &link, user, actor, now)?;
        }
    }
    Ok(())
}

fn leave(conn: &Conn, group: &GroupRecord, user: &UserRecord, actor: &Actor, now: Timestamp) -> Result<(), Error> {
    if store::scim::remove_member(conn, group.id, user.id)? {
        for link in store::scim::links(conn, group.id)? {
            unenroll_member(conn, group, &link, user, actor, now)?;
        }
    }
    Ok(())
}

/// Enrolls a member through the link, and records what happened. A refusal of the
/// enrollment core (capacity, a retired mode) is recorded, not raised: the member stays
/// in the group, and the link shows why they are not enrolled.
fn enroll_member(
    conn: &Conn,
    group: &GroupRecord,
    link: &LinkRecord,
    user: &UserRecord,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), Error> {
    let course = catalog::course_by_id(conn, link.course_id)?;
    let previous = store::scim::link_member(conn, group.id, link.course_id, user.id)?;
    if previous.as_ref().is_some_and(|p| p.status != "refused") {
        return Ok(());
    }
    let save = |status: &str, detail: Option<&str>| {
        store::scim::save_link_member(conn, group.id, link.course_id, user.id, status, detail, now.unix())
    };
    if enrollment::state(conn, &course, Some(user), &user.email)?.enrollment {
        return save("present", None);
    }
    let reason = format!("SCIM group {}", group.display_name);
    let change = change(actor, &reason);
    let attempt = store::db::savepoint(conn, || {
        enrollment::enroll_user(conn, user, &course, link.mode.as_deref(), Access::Instructor, &change, now)
    })?;
    match attempt {
        Ok(_) => save("enrolled", None),
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) => Err(e),
        Err(refusal) => save("refused", Some(&refusal.developer_message)),
    }
}

/// Undoes what the link did for a member: an enrollment it made ends, unless another
/// linked group of the member holds it too (that group then owns it).
fn unenroll_member(
    conn: &Conn,
    group: &GroupRecord,
    link: &LinkRecord,
    user: &UserRecord,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), Error> {
    let Some(record) = store::scim::link_member(conn, group.id, link.course_id, user.id)? else { return Ok(()) };
    store::scim::delete_link_member(conn, group.id, link.course_id, user.id)?;
    if record.status != "enrolled" {
        return Ok(());
    }
    if let Some(other) = store::scim::other_holder(conn, group.id, link.course_id, user.id)? {
        return store::scim::save_link_member(conn, other, link.course_id, user.id, "enrolled", None, now.unix());
    }
    let course = catalog::course_by_id(conn, link.course_id)?;
    let reason = format!("SCIM group {}", group.display_name);
    enrollment::unenroll_user(conn, user, &course, None, &change(actor, &reason), now)?;
    Ok(())
}

fn release_link(
    conn: &Conn,
    group: &GroupRecord,
    link: &LinkRecord,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), Error> {
    for record in store::scim::link_members(conn, group.id, link.course_id)? {
        if let Some(user) = store::users::by_id(conn, record.user_id)? {
            unenroll_member(conn, group, link, &user, actor, now)?;
        }
    }
    Ok(())
}

/// A group with its course links, for the admin API.
#[derive(Debug, Clone)]
pub struct GroupLinks {
    pub group: ScimGroup,
    pub links: Vec<(LinkRecord, Vec<LinkMemberRecord>)>,
}

/// Every group with its links, from one snapshot.
pub fn groups_with_links(db: &Db) -> Result<Vec<GroupLinks>, Error> {
    db.snapshot(|conn| {
        let (_, ids) = store::scim::search_groups(conn, &[], 0, i64::MAX)?;
        ids.into_iter().map(|id| group_links(conn, id)).collect()
    })
}

fn group_links(conn: &Conn, group_id: i64) -> Result<GroupLinks, Error> {
    let group = scim_group(conn, &group_id.to_string())?;
    let mut links = Vec::new();
    for link in store::scim::links(conn, group_id)? {
        let members = store::scim::link_members(conn, group_id, link.course_id)?;
        links.push((link, members));
    }
    Ok(GroupLinks { group, links })
}

fn linked_course(conn: &Conn, group_id: i64, key: &CourseKey) -> Result<(GroupRecord, Course), Error> {
    let group = group_record(conn, &group_id.to_string())?;
    let course = catalog::course(conn, key)?;
    Ok((group, course))
}

/// Links a group to a course (or changes the link's mode) and enrolls its members; members
/// refused before are tried again.
pub fn link_course(
    db: &Db,
    group_id: i64,
    key: &CourseKey,
    mode: Option<&str>,
    actor: Actor,
    now: Timestamp,
) -> Result<GroupLinks, Error> {
    db.write(|conn| {
        let (group, course) = linked_course(conn, group_id, key)?;
        if let Some(mode) = mode {
            if !enrollment::available_modes(&course, now, false).iter().any(|m| m == mode) {
                return Err(Error::field("mode", format!("The course {key} offers no mode '{mode}' now.")));
            }
        }
        store::scim::save_link(conn, group.id, course.id, mode, now.unix())?;
        let link = store::scim::links(conn, group.id)?
            .into_iter()
            .find(|l| l.course_id == course.id)
            .ok_or_else(|| Error::internal("link vanished after insert"))?;
        for (member_id, _) in store::scim::members(conn, group.id)? {
            if let Some(user) = store::users::by_id(conn, member_id)? {
                enroll_member(conn, &group, &link, &user, &actor, now)?;
            }
        }
        group_links(conn, group.id)
    })
}

/// Unlinks a course: the enrollments the link made end.
pub fn unlink_course(db: &Db, group_id: i64, key: &CourseKey, actor: Actor, now: Timestamp) -> Result<(), Error> {
    db.write(|conn| {
        let (group, course) = linked_course(conn, group_id, key)?;
        let Some(link) = store::scim::links(conn, group.id)?.into_iter().find(|l| l.course_id == course.id) else {
            return Err(Error::not_found(format!("The group {group_id} is not linked to {key}.")));
        };
        release_link(conn, &group, &link, &actor, now)?;
        store::scim::delete_link(conn, group.id, course.id)?;
        Ok(())
    })
}
