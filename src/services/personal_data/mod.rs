//! Learners' rights over their personal information (PIPL): a copy of everything (Art. 45),
//! corrections (Art. 46), deletion (Art. 47) and limited retention (Art. 19).

pub mod corrections;
pub mod erasure;
pub mod export;
pub mod retention;
