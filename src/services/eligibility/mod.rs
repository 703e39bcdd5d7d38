//! Between the records and the pure rules engine: a learner's facts, the parameters in force,
//! milestones computed and stored with their events and notices, and their recomputation.

pub mod facts;
pub mod packed_body;
pub mod parameters;
pub mod progress;
pub mod recompute;
pub mod store;
pub mod what_if;

pub use facts::*;
pub use parameters::*;
pub use recompute::*;
pub use store::*;
