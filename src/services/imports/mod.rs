//! Bulk imports: CSV files read strictly, then applied as one use case each.

pub mod cohort;
pub mod csv;
pub mod institution_records;
pub mod occupations;
