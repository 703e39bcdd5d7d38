crate::string_enum! {
    /// What an account may do. Stored as its snake_case name.
    Role {
        /// City administrator: catalogs, policy parameters, accounts.
        Admin => "admin",
        /// Staff of one institution (bound by `institution_id`).
        CollegeStaff => "college_staff",
        /// HR staff of one enterprise (bound by `institution_id` of kind `enterprise`).
        EmployerHr => "employer_hr",
        /// Verifies certificates.
        Evaluator => "evaluator",
        /// One learner (bound by `learner_id`).
        Learner => "learner",
    }
}

impl Role {
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

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }
}
