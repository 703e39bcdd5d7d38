//! Integration tests over real HTTP against a spawned server: SQLite in a temporary directory,
//! or PostgreSQL (a fresh database per test) when TEST_DATABASE_URL is set.

mod access;
mod auth;
mod backup;
mod boundary;
mod browser;
mod calendar;
mod catalog;
mod certificates;
mod cohort_upload;
mod cohorts;
mod contract;
mod corrections;
mod delivery;
mod designations;
mod drills;
mod erasure;
mod errors;
mod evaluator_pages;
mod helpers;
mod hr_pages;
mod jobs;
mod learners;
mod migrations;
mod milestones;
mod move_database;
mod my_data_page;
mod notifications;
mod openapi;
mod operations;
mod pages;
mod personal_data;
mod pwa;
mod replicas;
mod scoping;
mod seed;
mod services;
mod share_choice;
mod shares;
#[path = "../support/smtp.rs"]
mod smtp;
mod snapshots;
mod staff_pages;
mod targets;
mod users;
#[path = "../support/webdriver.rs"]
mod webdriver;
mod what_if_page;
