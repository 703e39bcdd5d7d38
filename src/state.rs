//! What every handler shares: settings, the database, token keys, the login limiter, metrics.

use std::sync::Arc;

use crate::auth::jwt::AccessTokens;
use crate::auth::rate_limit::{FailureLimiter, RefusalAllowance};
use crate::config::{Secret, Settings};
use crate::crypto::{IdentityVault, KeyVault};
use crate::db::Database;
use crate::metrics::Metrics;
use crate::notify::unsubscribe::UnsubscribeKeys;
use crate::services::eligibility::ParameterCache;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Database,
    pub tokens: AccessTokens,
    pub login_limiter: FailureLimiter,
    /// Counts unknown share codes, so that codes cannot be guessed.
    pub share_code_limiter: FailureLimiter,
    /// Counts the matches of registrations and imports refused as out of scope.
    pub scope_refusals: Arc<RefusalAllowance>,
    pub metrics: Metrics,
    pub identity_vault: IdentityVault,
    /// Encrypts the private keys that sign shared statements.
    pub key_vault: KeyVault,
    /// Seals the tokens of account links until their email is sent.
    pub link_vault: KeyVault,
    /// Counts password-reset requests per address asked for and per client.
    pub reset_limiter: FailureLimiter,
    /// Signs and checks the one-click unsubscribe links of emails.
    pub unsubscribe: UnsubscribeKeys,
    /// Makes and checks the unguessable identifiers of shares' public status.
    pub status_tokens: crate::services::sharing::StatusTokens,
    /// The memory (KiB) CSV uploads may hold at once.
    pub upload_memory: Arc<tokio::sync::Semaphore>,
    /// The rule parameters, read again only when they change.
    pub parameters: Arc<ParameterCache>,
}

impl AppState {
    /// What importing a cohort file needs, for `caller` into `target`.
    pub fn cohort_import<'a>(
        &'a self,
        caller: &'a crate::auth::AuthUser,
        refused: &'a crate::auth::scope::RefusedMatches,
        target: crate::services::imports::cohort::ImportTarget,
    ) -> crate::services::imports::cohort::ImportContext<'a> {
        crate::services::imports::cohort::ImportContext {
            vault: &self.identity_vault,
            caller,
            refused,
            cohort_id: target.cohort_id,
            program_id: target.program_id,
            institution_id: target.institution_id,
            actor: caller.id,
        }
    }

    /// What making account links needs.
    pub fn link_context(&self) -> crate::services::account_links::LinkContext<'_> {
        crate::services::account_links::LinkContext {
            vault: &self.link_vault,
            settings: self.settings.account_links,
        }
    }

    /// What creating and checking shares needs.
    pub fn sharing_context(&self) -> crate::services::sharing::create::SharingContext<'_> {
        crate::services::sharing::create::SharingContext {
            parameters: &self.parameters,
            key_vault: &self.key_vault,
            status_tokens: &self.status_tokens,
            public_url: &self.settings.notify.public_url,
        }
    }

    /// What issuing a session needs.
    pub fn issuer(&self) -> crate::auth::sessions::Issuer<'_> {
        crate::auth::sessions::Issuer {
            tokens: &self.tokens,
            refresh_ttl: self.settings.refresh_token_ttl,
        }
    }

    /// What the durable job runner needs.
    pub fn job_context(&self) -> crate::services::jobs::JobContext {
        crate::services::jobs::JobContext {
            db: self.db.clone(),
            link_vault: self.link_vault.clone(),
            link_settings: self.settings.account_links,
        }
    }

    /// What a notification worker of this process needs.
    pub fn worker_context(&self) -> crate::notify::worker::WorkerContext {
        crate::notify::worker::WorkerContext {
            db: self.db.clone(),
            settings: self.settings.notify.clone(),
            unsubscribe: self.unsubscribe.clone(),
            metrics: self.metrics.notify.clone(),
            link_vault: self.link_vault.clone(),
        }
    }

    pub fn new(
        settings: Settings,
        db: Database,
        jwt_secret: &Secret,
        data_key: &Secret,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            tokens: AccessTokens::new(
                jwt_secret,
                &settings.jwt_issuer,
                &settings.jwt_audience,
                settings.access_token_ttl,
            )?,
            login_limiter: FailureLimiter::new(
                "login",
                settings.login_limits,
                db.clone(),
                data_key,
            )?,
            share_code_limiter: FailureLimiter::new(
                "share-code",
                settings.share_code_limits,
                db.clone(),
                data_key,
            )?,
            scope_refusals: Arc::new(crate::auth::scope::refusal_allowance()),
            key_vault: KeyVault::new(data_key)?,
            link_vault: KeyVault::for_links(data_key)?,
            reset_limiter: FailureLimiter::new(
                "reset",
                crate::services::account_links::reset_limits(),
                db.clone(),
                data_key,
            )?,
            metrics: Metrics::new()?,
            identity_vault: IdentityVault::new(data_key)?,
            unsubscribe: UnsubscribeKeys::new(data_key)?,
            status_tokens: crate::services::sharing::StatusTokens::new(data_key)?,
            parameters: Arc::new(ParameterCache::default()),
            upload_memory: Arc::new(tokio::sync::Semaphore::new(
                crate::config::UPLOAD_MEMORY_KIB,
            )),
            db,
            settings: Arc::new(settings),
        })
    }
}
