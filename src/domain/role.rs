use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// City administrator: catalogs, policy parameters, accounts.
    Admin,
    /// Staff of one institution (bound by `institution_id`).
    CollegeStaff,
    /// HR staff of one enterprise (bound by `institution_id` of kind `enterprise`).
    EmployerHr,
    /// Verifies certificates.
    Evaluator,
    /// One learner (bound by `learner_id`).
    Learner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::CollegeStaff,
        Role::EmployerHr,
        Role::Evaluator,
        Role::Learner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CollegeStaff => "college_staff",
            Role::EmployerHr => "employer_hr",
            Role::Evaluator => "evaluator",
            Role::Learner => "learner",
        }
    }

    /// Which binding an account of this role must carry.
    pub fn binding(self) -> Binding {
        match self {
            Role::Admin | Role::Evaluator => Binding::None,
            Role::CollegeStaff | Role::EmployerHr => Binding::Institution,
            Role::Learner => Binding::Learner,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    None,
    Institution,
    Learner,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }
}
