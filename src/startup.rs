//! Builds the application: database, migrations, first admin, signing secret, HTTP server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::api::problem;
use crate::auth::password;
use crate::config::Settings;
use crate::db::users::{self, NewUser};
use crate::db::{self, Database};
use crate::domain::Role;
use crate::http_server::{self, ServerOptions, StopOn};

use crate::notify::worker::Worker;
use crate::secrets;
use crate::services::jobs;
use crate::state::AppState;

/// Seconds in-flight requests get to finish after SIGTERM / SIGINT.
const SHUTDOWN_GRACE_SECS: u64 = 10;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates, bootstraps, and binds (port 0 picks a free port); `stop_on` says
    /// what stops it.
    pub async fn build(settings: Settings, stop_on: StopOn) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding SKILLPATH_BIND={}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let worker_in_serve = settings.notify.worker_in_serve;
        let jobs_in_serve = settings.notify.jobs_in_serve;
        let state = shared_state(settings).await?;
        let backend = state.db.backend_name();
        // Blocking work beyond the pool's connections would only wait for one, each waiting
        // thread holding its stack and its allocator's heap (hundreds of megabytes under an
        // overload): the rest waits in the worker's queue. The bound is per worker (the pool is
        // shared); the few threads beyond the pool's size are not reserved for anything (a
        // password hash queues like the rest).
        let blocking_threads = state.db.pool_max_size() as usize + 4;
        let spec = api::openapi::document()?;

        let app_state = state.clone();
        let server = http_server::serve(
            listener,
            move || {
                App::new()
                    .app_data(app_state.clone())
                    .app_data(
                        web::JsonConfig::default()
                            .limit(crate::api::body::JSON_BODY_LIMIT)
                            .error_handler(problem::json_error),
                    )
                    .app_data(web::QueryConfig::default().error_handler(problem::query_error))
                    .app_data(web::PathConfig::default().error_handler(problem::path_error))
                    .wrap(from_fn(api::boundary::guard))
                    .wrap(from_fn(api::middleware::track_requests))
                    .wrap(from_fn(api::middleware::request_id_header))
                    .wrap(TracingLogger::default())
                    .configure(api::routes)
                    .configure(crate::web::routes)
                    .service(
                        SwaggerUi::new("/docs/{_:.*}")
                            .external_url_unchecked("/openapi.json", spec.clone()),
                    )
                    .default_service(web::to(api::not_found))
            },
            ServerOptions {
                workers: None,
                shutdown_timeout_secs: SHUTDOWN_GRACE_SECS,
                stop_on,
                max_blocking_threads: Some(blocking_threads),
            },
        )?;
        tokio::spawn(jobs::queue_daily(state.db.clone()));
        if jobs_in_serve {
            tokio::spawn(jobs::run(
                state.job_context(),
                state.settings.notify.poll_interval,
                std::future::pending(),
            ));
        }
        if worker_in_serve {
            let worker = Worker::new(state.worker_context())?;
            tokio::spawn(worker.run(std::future::pending()));
        }
        tracing::info!(port, database = backend, "listening");
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Stops the server from outside (tests take it away from under a browser).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (as `build` was told), then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// What the server and a lone worker share: the database (connected and migrated, with the first
/// administrator), the secrets, the metrics.
pub async fn shared_state(settings: Settings) -> anyhow::Result<web::Data<AppState>> {
    let prepared = settings.clone();
    let (db, (jwt_secret, data_key)) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let db = Database::connect(&prepared)?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        bootstrap_admin(&db, &prepared)?;
        let jwt_secret = secrets::configured_or_stored(
            prepared.jwt_secret.as_ref(),
            &prepared.secret_file("jwt-secret"),
            "SKILLPATH_JWT_SECRET",
        )?;
        let data_key = secrets::configured_or_stored(
            prepared.data_key.as_ref(),
            &prepared.secret_file("data-key"),
            "SKILLPATH_DATA_KEY",
        )?;
        Ok((db, (jwt_secret, data_key)))
    })
    .await
    .context("startup task")??;
    Ok(web::Data::new(AppState::new(
        settings,
        db,
        &jwt_secret,
        &data_key,
    )?))
}

/// `skillpath worker`: delivers notifications and runs queued jobs until SIGTERM or SIGINT,
/// serving only `/health`, `/ready` and `/metrics` on `SKILLPATH_BIND`.
pub async fn run_worker(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind)
        .with_context(|| format!("binding SKILLPATH_BIND={}", settings.bind))?;
    let port = listener.local_addr()?.port();
    let state = shared_state(settings).await?;
    let app_state = state.clone();
    let server = http_server::serve(
        listener,
        move || {
            App::new()
                .app_data(app_state.clone())
                .configure(api::operations_routes)
                .default_service(web::to(api::not_found))
        },
        ServerOptions {
            workers: Some(1),
            shutdown_timeout_secs: SHUTDOWN_GRACE_SECS,
            stop_on: StopOn::Handle,
            max_blocking_threads: None,
        },
    )?;
    let handle = server.handle();
    let http = tokio::spawn(server);
    tracing::info!(
        port,
        database = state.db.backend_name(),
        "notification worker started"
    );
    let job_runner = tokio::spawn(jobs::run(
        state.job_context(),
        state.settings.notify.poll_interval,
        std::future::pending(),
    ));
    Worker::new(state.worker_context())?
        .run(http_server::stop_signal())
        .await;
    // The runner stops looking for jobs; a job it is running finishes before the process exits
    // (if the process is killed instead, another runner takes the job up when its lease runs out).
    job_runner.abort();
    handle.stop(true).await;
    let _ = http.await;
    tracing::info!("notification worker stopped");
    Ok(())
}

/// Creates the first administrator from `SKILLPATH_ADMIN_*` when no admin exists yet.
fn bootstrap_admin(db: &Database, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let Some(admin) = &settings.admin else {
        if !users::admin_exists(&mut conn)? {
            tracing::warn!(
                "no administrator account exists: set SKILLPATH_ADMIN_EMAIL and SKILLPATH_ADMIN_PASSWORD to create one"
            );
        }
        return Ok(());
    };
    if users::admin_exists(&mut conn)? {
        return Ok(());
    }
    let hash = password::hash(admin.password.expose())?;
    db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        if users::admin_exists(conn)? {
            return Ok(()); // another replica was quicker
        }
        if let Some(existing) = users::find_by_email(conn, admin.email.as_str())? {
            anyhow::bail!(
                "SKILLPATH_ADMIN_EMAIL: {} already belongs to a {} account; choose another address",
                existing.email,
                existing.role
            );
        }
        let now = db::now();
        users::insert(
            conn,
            &NewUser {
                email: admin.email.as_str(),
                password_hash: &hash,
                role: Role::Admin,
                institution_id: None,
                learner_id: None,
                disabled: false,
                token_version: 0,
                created_at: now,
                updated_at: now,
            },
        )?;
        tracing::info!(email = %admin.email, "created the first administrator");
        Ok(())
    })
}
