//! Skillpath: follows vocational learners through their skill-level certificates.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod auth;
pub mod client_address;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod downloads;
pub mod error;
pub mod http_server;
pub mod metrics;
pub mod notify;
pub mod rules;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod state;
pub mod statements;
pub mod telemetry;
pub mod upload;
pub mod web;
