//! Learners' rights over their personal information (PIPL): a copy of everything (Art. 45) and
//! limited retention (Art. 19).

pub mod corrections;
pub mod export;
pub mod retention;
