#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use skillpath::api::openapi;
use skillpath::config::Settings;
use skillpath::db::Database;
use skillpath::http_server::StopOn;
use skillpath::startup::Application;
use skillpath::telemetry;

// The engine and the JSON layer allocate many small strings; mimalloc serves them markedly
// faster than the system allocator (see the engine benchmark in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Skillpath: follows vocational learners through their skill-level certificates and the
/// milestones policy attaches to them. Configuration comes from the environment (see docs/operations.md).
#[derive(Parser)]
#[command(name = "skillpath", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Deliver notifications and run queued jobs (as `serve` also does unless
    /// SKILLPATH_WORKER_IN_SERVE=false); serves only /health, /ready and /metrics on SKILLPATH_BIND.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Recompute every learner's stored milestones (as the daily schedule inside `serve` does)
    /// and record the events of their changes.
    Recompute {
        /// The evaluation date: today in Shanghai, the only date whose milestones are stored
        /// (another date is refused).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Fill the database with synthetic learners and their histories (for benchmarks and
    /// trials; see docs/performance.md for the distributions).
    Seed {
        /// How many learners.
        #[arg(long, default_value_t = 10_000)]
        learners: usize,
        /// The random seed: the same seed writes the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also make a learner account for each: learner<N>@seed.example with the password
        /// "seeded learner password" (benchmark and trial databases only).
        #[arg(long)]
        accounts: bool,
    },
    /// Write a consistent copy of the live database to a new file (SQLite: VACUUM INTO, while the
    /// service runs; PostgreSQL: pg_dump's custom format) and check it. The secrets stay out of
    /// it: keep them apart (`export-secrets`).
    Backup {
        /// The file to write (never overwritten).
        #[arg(long)]
        output: PathBuf,
    },
    /// Replace the configured database with a backup, after checking it (intact, made by this
    /// version or an older one, sealed under the configured SKILLPATH_DATA_KEY). Stop the
    /// service first.
    Restore {
        /// The backup to restore.
        #[arg(long)]
        input: PathBuf,
    },
    /// Write the secrets a backup needs (the data key, the JWT secret) to a new file readable
    /// only by its owner, for the operator's safe.
    ExportSecrets {
        /// The file to write (never overwritten).
        #[arg(long)]
        output: PathBuf,
    },
    /// Move this deployment from its SQLite file (DATABASE_URL) into a new PostgreSQL database:
    /// every table copied in one transaction there, row counts checked. Stop the service first;
    /// the new deployment needs the same SKILLPATH_DATA_KEY (`export-secrets`).
    MoveToPostgres {
        /// The new database's postgres:// URL (it is migrated first and must be empty).
        #[arg(long)]
        to: String,
    },
    /// Write the OpenAPI document.
    Openapi {
        /// Where to write it.
        #[arg(long, default_value = openapi::SPEC_PATH)]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { output } = &command {
        return write_openapi(output);
    }

    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = telemetry::init(settings.log_format) {
        eprintln!("{err}");
        return ExitCode::from(2);
    }

    let outcome = match command {
        Command::Migrate => migrate(&settings),
        Command::Recompute { as_of } => recompute(&settings, as_of),
        Command::Seed {
            learners,
            seed,
            accounts,
        } => seed_database(&settings, learners, seed, accounts),
        Command::Backup { output } => backup(&settings, &output),
        Command::Restore { input } => restore(&settings, &input),
        Command::ExportSecrets { output } => {
            skillpath::services::backup::export_secrets(&settings, &output).map(|()| {
                println!(
                    "wrote {}: keep it in a safe, apart from the backups",
                    output.display()
                );
            })
        }
        Command::MoveToPostgres { to } => move_to_postgres(&settings, &to),
        Command::Worker => {
            actix_web::rt::System::new().block_on(skillpath::startup::run_worker(settings))
        }
        _ => actix_web::rt::System::new().block_on(serve(settings)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "stopped");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings, StopOn::Signals).await?;
    app.run_until_stopped().await?;
    tracing::info!("shut down");
    Ok(())
}

fn backup(settings: &Settings, output: &std::path::Path) -> anyhow::Result<()> {
    let db = Database::connect(settings)?;
    let checked = skillpath::services::backup::backup(settings, &db, output)?;
    println!(
        "wrote {} ({} learner(s), migration {}); its identity numbers and signing keys are \
         sealed under SKILLPATH_DATA_KEY, which is not in it: keep the key apart \
         (`skillpath export-secrets`)",
        output.display(),
        checked.learners,
        checked.migration
    );
    Ok(())
}

fn restore(settings: &Settings, input: &std::path::Path) -> anyhow::Result<()> {
    let checked = skillpath::services::backup::restore(settings, input)?;
    println!(
        "restored {} ({} learner(s), migration {}); start the service to apply newer migrations",
        input.display(),
        checked.learners,
        checked.migration
    );
    Ok(())
}

fn move_to_postgres(settings: &Settings, to: &str) -> anyhow::Result<()> {
    let moved = skillpath::services::move_database::to_postgres(settings, to)?;
    let rows: i64 = moved.rows.values().sum();
    println!(
        "moved {rows} row(s) of {} table(s) ({} learner(s)) to PostgreSQL in {:.1} s; point \
         DATABASE_URL there, with the same SKILLPATH_DATA_KEY and SKILLPATH_JWT_SECRET",
        moved.rows.len(),
        moved.rows.get("learners").copied().unwrap_or(0),
        moved.seconds
    );
    Ok(())
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = Database::connect(settings)?;
    let applied = db.migrate()?;
    println!(
        "{} migration(s) applied to the {} database",
        applied.len(),
        db.backend_name()
    );
    Ok(())
}

fn recompute(settings: &Settings, as_of: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    let db = Database::connect(settings)?;
    db.migrate()?;
    let today = skillpath::domain::today_in_shanghai();
    let as_of = as_of.unwrap_or(today);
    skillpath::services::eligibility::check_recompute_date(as_of, today)
        .map_err(anyhow::Error::msg)?;
    let summary = skillpath::services::eligibility::recompute_all(&db, as_of)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "recomputed the milestones of {} learner(s) as of {as_of} in {:.1} s; {} change(s) recorded",
        summary.learners, summary.seconds, summary.events
    );
    Ok(())
}

fn seed_database(
    settings: &Settings,
    learners: usize,
    seed: u64,
    accounts: bool,
) -> anyhow::Result<()> {
    let db = Database::connect(settings)?;
    db.migrate()?;
    let s = skillpath::services::seed::seed(&db, learners, seed, accounts)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "seeded {} learner(s) in {:.1} s: {} institution(s), {} program(s), {} enrollment(s), {} certificate(s), {} employment spell(s)",
        s.learners, s.seconds, s.institutions, s.programs, s.enrollments, s.certificates, s.employments
    );
    Ok(())
}

fn write_openapi(output: &PathBuf) -> ExitCode {
    let written = openapi::spec_json().and_then(|spec| {
        if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(output, spec)?;
        Ok(())
    });
    match written {
        Ok(()) => {
            println!("wrote {}", output.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: writing {}: {err:#}", output.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap reads `{n}` in a doc comment as a line break: the help must say what it means.
    #[test]
    fn seed_help_names_the_seeded_accounts() {
        let mut command = super::Cli::command();
        let seed = command.find_subcommand_mut("seed").expect("a seed command");
        let help = seed.render_long_help().to_string();
        assert!(help.contains("learner<N>@seed.example"), "{help}");
    }
}
