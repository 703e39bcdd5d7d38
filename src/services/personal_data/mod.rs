//! Learners' rights over their personal information (PIPL): a copy of everything (Art. 45).

pub mod export;
