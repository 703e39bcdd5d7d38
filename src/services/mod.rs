//! The use cases: what the service does, callable from a handler, the command line, a job or a
//! test alike. Each runs over a database connection and answers with [`crate::error::AppError`];
//! none knows of HTTP.

pub mod account_links;
pub mod accounts;
pub mod backup;
pub mod calendar;
pub mod certificate_view;
pub mod certificates;
pub mod designations;
pub mod eligibility;
pub mod imports;
pub mod institutions;
pub mod jobs;
pub mod learner_input;
pub mod learners;
pub mod move_database;
pub mod notifications;
pub mod occupation_catalog;
pub mod partnerships;
pub mod personal_data;
pub mod policy;
pub mod records;
pub mod seed;
pub mod sharing;
pub mod targets;

use std::collections::HashMap;
use std::hash::Hash;

/// Pairs each row with its children (in their order), matched by key: what a list needs after
/// loading the children of a page of rows in one query.
pub(crate) fn with_children<R, C, K: Eq + Hash>(
    rows: Vec<R>,
    children: Vec<C>,
    key_of_row: impl Fn(&R) -> K,
    key_of_child: impl Fn(&C) -> K,
) -> Vec<(R, Vec<C>)> {
    let mut grouped: HashMap<K, Vec<C>> = HashMap::new();
    for child in children {
        grouped.entry(key_of_child(&child)).or_default().push(child);
    }
    rows.into_iter()
        .map(|row| {
            let own = grouped.remove(&key_of_row(&row)).unwrap_or_default();
            (row, own)
        })
        .collect()
}
