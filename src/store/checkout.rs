//! Checkout orders: the record of a paid enrollment (never the card number).

use crate::error::Error;
use rusqlite::{params, Connection};

pub struct NewOrder<'a> {
    pub enrollment_number: &'a str,
    pub transaction_id: &'a str,
    pub user_id: i64,
    pub course_id: i64,
    pub status: &'a str,
    pub amount_minor: i64,
    pub discount_minor: i64,
    pub currency: &'a str,
    pub coupon_code: Option<&'a str>,
    pub method: &'a str,
    pub card_last_four: Option<&'a str>,
    pub details: &'a str,
    pub started_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub created: i64,
}

/// Whether an order already has this enrollment number or transaction id (both unique).
pub fn number_taken(conn: &Connection, enrollment_number: &str, transaction_id: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM checkout_orders WHERE enrollment_number = ?1) \
             OR EXISTS(SELECT 1 FROM checkout_orders WHERE transaction_id = ?2)",
        )?
        .query_row(params![enrollment_number, transaction_id], |r| r.get(0))?)
}

pub fn insert(conn: &Connection, o: &NewOrder) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO checkout_orders (enrollment_number, transaction_id, user_id, course_id, status, amount_minor, discount_minor, \
         currency, coupon_code, method, card_last_four, details, started_at, expires_at, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        o.enrollment_number,
        o.transaction_id,
        o.user_id,
        o.course_id,
        o.status,
        o.amount_minor,
        o.discount_minor,
        o.currency,
        o.coupon_code,
        o.method,
        o.card_last_four,
        o.details,
        o.started_at,
        o.expires_at,
        o.created
    ])?;
    Ok(conn.last_insert_rowid())
}
