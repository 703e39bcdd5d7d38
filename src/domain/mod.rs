//! Domain newtypes, parsed once at the edge so the rest of the code can trust them.

mod email;
mod password;
mod role;

pub use email::EmailAddress;
pub use password::NewPassword;
pub use role::{Binding, Role};
