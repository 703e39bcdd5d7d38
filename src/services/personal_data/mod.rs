//! Learners' rights over their personal information (PIPL): a copy of everything (Art. 45),
//! corrections (Art. 46), deletion (Art. 47) and limited retention (Art. 19).

pub mod corrections;
pub mod erasure;
pub mod export;
pub mod retention;

use chrono::NaiveDateTime;

use crate::db::{learners, DbConnection};
use crate::domain::{Category, LearnerId, NoticeKind};
use crate::error::AppError;
use crate::notify::messages::Message;
use crate::notify::{self, Notice, Recipient};

/// Tells the learner the answer to one of their requests about their data (inbox, and email
/// when they have an address): category `requests`, not a preference.
pub(crate) fn tell(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    event_key: String,
    kind: NoticeKind,
    message: Message,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let email = learners::find(conn, learner_id)?.and_then(|l| l.email);
    notify::produce(
        conn,
        &Notice {
            recipient: Recipient::Learner(learner_id),
            email: email.as_deref(),
            event_key,
            category: Category::Requests,
            kind,
            message,
            due_at: None,
            secret: None,
        },
        now,
    )
}
