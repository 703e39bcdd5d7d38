//! Getting in: invitations to activate a learner's account and password resets, each a
//! one-time link sent by email (the outbox, `notify::links`). A link's token is random (256
//! bits), stored only as its SHA-256, used once, short-lived, and retired when a newer link of
//! the same purpose is used. Asking for a reset answers the same whether or not the address has
//! an account; the email is the only place the answer shows.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::sessions::{hash_token, random_token};
use crate::config::LoginLimits;
use crate::crypto::KeyVault;
use crate::db::account_links::{self, AccountLinkRow, NewAccountLink};
use crate::db::notifications::Recipient;
use crate::db::users::{self, NewUser, UserRow};
use crate::db::{self, audit, learners, records, refresh_tokens, Database, DbConnection};
use crate::domain::{
    AuditAction, AuditEntity, Category, CohortId, LearnerId, LinkPurpose, NoticeKind, Role, UserId,
};
use crate::error::AppError;
use crate::notify::{self, messages, Notice};

/// What making links needs: the vault that seals their tokens, and their lifetimes.
#[derive(Clone, Copy)]
pub struct LinkContext<'a> {
    pub vault: &'a KeyVault,
    pub settings: crate::config::AccountLinkSettings,
}

/// Keys per statement when many learners are looked up at once.
const CHUNK: usize = 500;

/// A second request for a reset within this time sends nothing new (the first email is on its
/// way); the limiter bounds the rest.
const RESET_REPEAT_SECS: i64 = 60;

/// Password-reset requests: per address asked for and per client, in an hour.
pub fn reset_limits() -> LoginLimits {
    LoginLimits {
        max_failures_per_account: 5,
        max_failures_per_address: 30,
        window: Duration::from_secs(3_600),
    }
}

/// What became of an invitation (staff may know: the learner is in their scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invitation {
    /// The email is queued; earlier invitations are void.
    Sent,
    /// The learner has an account already.
    AlreadyActive,
    /// No email address is recorded for the learner.
    NoEmail,
    /// Another account uses the learner's address (a staff account, say).
    AddressInUse,
}

impl Invitation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::AlreadyActive => "already_active",
            Self::NoEmail => "no_email",
            Self::AddressInUse => "address_in_use",
        }
    }
}

fn chrono_of(ttl: Duration) -> chrono::Duration {
    chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::hours(1))
}

/// Makes a link and queues its email. Run inside the write transaction.
#[allow(clippy::too_many_arguments)]
fn send_link(
    conn: &mut DbConnection,
    cx: LinkContext<'_>,
    purpose: LinkPurpose,
    recipient: Recipient,
    email: &str,
    actor: Option<UserId>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (ttl, kind, message) = match purpose {
        LinkPurpose::Invitation => {
            let ttl = chrono_of(cx.settings.invitation_ttl);
            let message = messages::invitation_message(ttl.num_hours());
            (ttl, NoticeKind::Invitation, message)
        }
        LinkPurpose::PasswordReset => {
            let ttl = chrono_of(cx.settings.reset_ttl);
            let message = messages::password_reset_message(ttl.num_minutes());
            (ttl, NoticeKind::PasswordReset, message)
        }
    };
    account_links::delete_expired(conn, now - chrono::Duration::days(30))?;
    let token = random_token();
    let token_hash = hash_token(&token);
    account_links::insert(
        conn,
        &NewAccountLink {
            token_hash: &token_hash,
            purpose,
            learner_id: recipient.learner_id(),
            user_id: recipient.user_id(),
            email,
            created_by: actor,
            created_at: now,
            expires_at: now + ttl,
        },
    )?;
    let secret = cx
        .vault
        .seal(token.as_bytes())
        .map_err(|e| AppError::internal("sealing a link", e))?;
    notify::produce(
        conn,
        &Notice {
            recipient,
            email: Some(email),
            // The hash's head names the event: every link is its own email.
            event_key: format!("account_link:{}", &token_hash[..32]),
            category: Category::Account,
            kind,
            message,
            due_at: None,
            secret: Some(secret),
        },
        now,
    )
}

/// Invites a learner to activate their account: a new link, replacing earlier ones. The caller
/// was checked to reach the learner. Run inside a write transaction.
pub fn invite(
    conn: &mut DbConnection,
    cx: LinkContext<'_>,
    actor: Option<UserId>,
    learner_id: LearnerId,
    now: NaiveDateTime,
) -> Result<Invitation, AppError> {
    let learner =
        learners::find(conn, learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let Some(email) = learner.email else {
        return Ok(Invitation::NoEmail);
    };
    if !users::find_by_learner(conn, learner_id)?.is_empty() {
        return Ok(Invitation::AlreadyActive);
    }
    if users::find_by_email(conn, &email)?.is_some() {
        return Ok(Invitation::AddressInUse);
    }
    account_links::retire_for_learner(conn, learner_id, now)?;
    send_link(
        conn,
        cx,
        LinkPurpose::Invitation,
        Recipient::Learner(learner_id),
        &email,
        actor,
        now,
    )?;
    audit::record(
        conn,
        actor,
        AuditAction::Invite,
        AuditEntity::Learner,
        learner_id,
        &json!({}),
    )?;
    Ok(Invitation::Sent)
}

/// Staff (an administrator, or college staff of the learner's institution) invite a learner:
/// the one use case of the API's `POST /learners/{id}/invitation` and the cohort page's button.
/// 403 for other roles, 404 outside the caller's scope. Run inside a write transaction.
pub fn invite_by(
    conn: &mut DbConnection,
    cx: LinkContext<'_>,
    caller: &crate::auth::AuthUser,
    learner_id: LearnerId,
    now: NaiveDateTime,
) -> Result<Invitation, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff])?;
    crate::auth::scope::require_learner(conn, caller, learner_id)?;
    invite(conn, cx, Some(caller.id), learner_id, now)
}

/// What became of an import's invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportInvitations {
    /// This many learners were invited (the others have an account, were invited, or have no
    /// address).
    Sent(usize),
    /// The importer's account is disabled or no longer manages the cohort: nothing is sent in
    /// their name (staff can invite from the cohort's page).
    ImporterGone,
}

/// Invites the learners an import enrolled in `cohort_id` (its enrollments, all stamped `at`),
/// in the importer's name if they still may import into the cohort, a transaction per chunk
/// with the chunk's learners locked: [`invite_new`] skips whoever was invited meanwhile, so a
/// run again after a failure, or beside another invitation, invites nobody twice. Blocking and
/// outside a transaction: the durable job's work.
pub fn invite_enrolled(
    database: &Database,
    cx: LinkContext<'_>,
    cohort_id: CohortId,
    at: NaiveDateTime,
    actor: UserId,
) -> Result<ImportInvitations, AppError> {
    let mut conn = database.get()?;
    let importer = users::find(&mut conn, actor)?
        .filter(|u| !u.disabled)
        .map(|u| crate::auth::AuthUser::of_row(&u));
    let still_may = match &importer {
        Some(importer) => {
            crate::services::imports::cohort::ImportTarget::check(&mut conn, importer, cohort_id)
                .is_ok()
        }
        None => false,
    };
    if !still_may {
        return Ok(ImportInvitations::ImporterGone);
    }
    let ids = records::learners_enrolled_at(&mut conn, cohort_id, at)?;
    let mut invited = 0;
    for chunk in ids.chunks(INVITE_CHUNK) {
        invited += db::write_transaction(&mut conn, |conn| {
            learners::lock(conn, chunk)?;
            invite_new(conn, cx, Some(actor), chunk, db::now())
        })?;
    }
    Ok(ImportInvitations::Sent(invited))
}

/// Learners invited per transaction by [`invite_enrolled`].
const INVITE_CHUNK: usize = 2_000;

/// Invites each learner who has an address, no account and was never invited (learners just
/// enrolled by staff or a cohort import), in a few statements whatever their number; the others
/// are left as they are. Returns how many were invited. Run inside the write transaction.
pub fn invite_new(
    conn: &mut DbConnection,
    cx: LinkContext<'_>,
    actor: Option<UserId>,
    learner_ids: &[LearnerId],
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut candidates: Vec<(LearnerId, String)> = Vec::new();
    for chunk in learner_ids.chunks(CHUNK) {
        candidates.extend(
            learners::find_many(conn, chunk)?
                .into_iter()
                .filter_map(|l| Some((l.id, l.email?))),
        );
    }
    if candidates.is_empty() {
        return Ok(0);
    }
    let mut skip: HashSet<LearnerId> = HashSet::new();
    let mut taken: HashSet<String> = HashSet::new();
    for chunk in candidates.chunks(CHUNK) {
        let ids: Vec<LearnerId> = chunk.iter().map(|(id, _)| *id).collect();
        let emails: Vec<String> = chunk.iter().map(|(_, e)| e.clone()).collect();
        skip.extend(users::learners_with_accounts(conn, &ids)?);
        skip.extend(account_links::invited_among(conn, &ids)?);
        taken.extend(users::emails_taken(conn, &emails)?);
    }
    let ttl = chrono_of(cx.settings.invitation_ttl);
    let message = messages::invitation_message(ttl.num_hours());
    let mut links = Vec::new();
    let mut sealed = Vec::new();
    for (learner_id, email) in &candidates {
        if skip.contains(learner_id) || taken.contains(email) {
            continue;
        }
        let token = random_token();
        let secret = cx
            .vault
            .seal(token.as_bytes())
            .map_err(|e| AppError::internal("sealing a link", e))?;
        links.push((hash_token(&token), *learner_id, email.as_str()));
        sealed.push(secret);
    }
    let rows: Vec<NewAccountLink<'_>> = links
        .iter()
        .map(|(hash, learner_id, email)| NewAccountLink {
            token_hash: hash,
            purpose: LinkPurpose::Invitation,
            learner_id: Some(*learner_id),
            user_id: None,
            email,
            created_by: actor,
            created_at: now,
            expires_at: now + ttl,
        })
        .collect();
    account_links::insert_many(conn, &rows)?;
    let notices: Vec<Notice<'_>> = links
        .iter()
        .zip(sealed)
        .map(|((hash, learner_id, email), secret)| Notice {
            recipient: Recipient::Learner(*learner_id),
            email: Some(email),
            event_key: format!("account_link:{}", &hash[..32]),
            category: Category::Account,
            kind: NoticeKind::Invitation,
            message: message.clone(),
            due_at: None,
            secret: Some(secret),
        })
        .collect();
    notify::produce_many(conn, &notices, &Default::default(), now)?;
    Ok(rows.len())
}

/// Sends a password-reset link to the account with this address, if there is one (and it is
/// not disabled); otherwise nothing, and the caller answers the same either way. Run inside a
/// write transaction.
pub fn request_reset(
    conn: &mut DbConnection,
    cx: LinkContext<'_>,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let Some(user) = users::find_by_email(conn, email)? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let recent = account_links::newest_reset(conn, user.id)?
        .is_some_and(|at| now - at < chrono::Duration::seconds(RESET_REPEAT_SECS));
    if recent {
        return Ok(());
    }
    send_link(
        conn,
        cx,
        LinkPurpose::PasswordReset,
        Recipient::User(user.id),
        &user.email,
        None,
        now,
    )?;
    audit::record(
        conn,
        None,
        AuditAction::RequestReset,
        AuditEntity::User,
        user.id,
        &json!({}),
    )?;
    Ok(())
}

/// A link that cannot be used: unknown, used, expired or void. One answer for all, so that a
/// link tells nothing about an account.
pub fn invalid_link() -> AppError {
    AppError::Gone {
        code: "link_invalid",
        detail: "This link cannot be used: it was used already, it expired, or a newer one was sent. Ask for a new one.".into(),
    }
}

/// A usable link of this purpose, with the address it was sent to. An invitation is void once
/// its learner has an account or another address.
pub fn find_usable(
    conn: &mut DbConnection,
    token: &str,
    purpose: LinkPurpose,
    now: NaiveDateTime,
) -> Result<AccountLinkRow, AppError> {
    let link = account_links::find_live(conn, &hash_token(token), purpose, now)?
        .ok_or_else(invalid_link)?;
    match purpose {
        LinkPurpose::Invitation => {
            let learner_id = link.learner_id.ok_or_else(invalid_link)?;
            let learner = learners::find(conn, learner_id)?.ok_or_else(invalid_link)?;
            let same_address = learner
                .email
                .is_some_and(|e| e.eq_ignore_ascii_case(&link.email));
            if !same_address || !users::find_by_learner(conn, learner_id)?.is_empty() {
                return Err(invalid_link());
            }
        }
        LinkPurpose::PasswordReset => {
            let user_id = link.user_id.ok_or_else(invalid_link)?;
            let user = users::find(conn, user_id)?.ok_or_else(invalid_link)?;
            if user.disabled || !user.email.eq_ignore_ascii_case(&link.email) {
                return Err(invalid_link());
            }
        }
    }
    Ok(link)
}

/// Uses an invitation: the learner's account, with the password chosen (hashed before the
/// transaction). Run inside a write transaction.
pub fn activate(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let link = find_usable(conn, token, LinkPurpose::Invitation, now)?;
    let learner_id = link.learner_id.ok_or_else(invalid_link)?;
    if !account_links::mark_used(conn, &link.token_hash, now)? {
        return Err(invalid_link());
    }
    if users::find_by_email(conn, &link.email)?.is_some() {
        return Err(invalid_link());
    }
    let user = users::insert(
        conn,
        &NewUser {
            email: &link.email.to_lowercase(),
            password_hash,
            role: Role::Learner,
            institution_id: None,
            learner_id: Some(learner_id),
            disabled: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        },
    )?;
    account_links::retire_for_learner(conn, learner_id, now)?;
    audit::record(
        conn,
        Some(user.id),
        AuditAction::Activate,
        AuditEntity::User,
        user.id,
        &json!({"learner_id": learner_id, "role": Role::Learner}),
    )?;
    Ok(user)
}

/// Uses a reset link: the account's new password (hashed before the transaction); every
/// session and refresh token of the account ends, and its other reset links with them. Run
/// inside a write transaction.
pub fn reset_password(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let link = find_usable(conn, token, LinkPurpose::PasswordReset, now)?;
    let user_id = link.user_id.ok_or_else(invalid_link)?;
    if !account_links::mark_used(conn, &link.token_hash, now)? {
        return Err(invalid_link());
    }
    users::set_password_hash(conn, user_id, password_hash, now)?;
    refresh_tokens::revoke_all_for_user(conn, user_id, now)?;
    account_links::retire_for_user(conn, user_id, now)?;
    audit::record(
        conn,
        Some(user_id),
        AuditAction::ResetPassword,
        AuditEntity::User,
        user_id,
        &json!({}),
    )?;
    users::find(conn, user_id)?.ok_or_else(invalid_link)
}
