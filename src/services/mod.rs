//! The use cases: what the service does, callable from a handler, the command line, a job or a
//! test alike. Each runs over a database connection and answers with [`crate::error::AppError`];
//! none knows of HTTP.

pub mod accounts;
pub mod certificates;
pub mod eligibility;
pub mod imports;
pub mod institutions;
pub mod jobs;
pub mod learners;
pub mod notifications;
pub mod policy;
pub mod records;
pub mod seed;
pub mod sharing;
