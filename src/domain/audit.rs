//! The vocabulary of the audit log: what was done, to which kind of record.

use super::kinds::Decision;

crate::string_enum! {
    /// What an audited change did.
    AuditAction {
        Create => "create",
        Update => "update",
        /// A certificate submitted for verification.
        Submit => "submit",
        /// An evaluator's decisions on a certificate.
        Verify => "verify",
        Reject => "reject",
        /// A certificate or a share revoked.
        Revoke => "revoke",
        /// A CSV file imported.
        Import => "import",
        /// An institution designated (new-type technician college) or its designation ended.
        Designate => "designate",
        EndDesignation => "end_designation",
        /// A step of a designation application (policy 六): a submission, a review, a decision.
        ApplicationStep => "application_step",
        /// A partnership ended.
        EndPartnership => "end_partnership",
        /// A new value of a rule parameter.
        AddValue => "add_value",
        ChangePassword => "change_password",
        /// A one-time link sent: an invitation to activate an account, or a password reset.
        Invite => "invite",
        RequestReset => "request_reset",
        /// An account activated from an invitation, a password reset from its link.
        Activate => "activate",
        ResetPassword => "reset_password",
        /// A dead notification sent again.
        Retry => "retry",
        /// A signing key replaced.
        Rotate => "rotate",
        /// A learner's records shared with an enterprise.
        Share => "share",
        Unsubscribe => "unsubscribe",
        /// Matches of an import or registration refused as outside the caller's scope.
        ScopeRefused => "scope_refused",
        /// A copy of a learner's data was made (PIPL Art. 45).
        Export => "export",
        /// A learner asked to correct a recorded fact (PIPL Art. 46).
        RequestCorrection => "request_correction",
        AcceptCorrection => "accept_correction",
        RefuseCorrection => "refuse_correction",
        /// A learner asked to delete their account (erased after the grace period).
        RequestDeletion => "request_deletion",
        CancelDeletion => "cancel_deletion",
        /// A learner's personal information was erased (PIPL Art. 47).
        Erase => "erase",
    }
}

impl AuditAction {
    pub fn of_decision(decision: Decision) -> Self {
        match decision {
            Decision::Verify => Self::Verify,
            Decision::Reject => Self::Reject,
            Decision::Revoke => Self::Revoke,
        }
    }
}

crate::string_enum! {
    /// The kind of record an audited change concerns.
    AuditEntity {
        Award => "award",
        Certificate => "certificate",
        Cohort => "cohort",
        CorrectionRequest => "correction_request",
        DesignationApplication => "designation_application",
        Employment => "employment",
        Enrollment => "enrollment",
        Institution => "institution",
        /// A record an institution's targets are counted from (training, teachers, development).
        InstitutionRecord => "institution_record",
        Learner => "learner",
        Notification => "notification",
        Occupation => "occupation",
        Partnership => "partnership",
        Program => "program",
        RuleParameter => "rule_parameter",
        Share => "share",
        SigningKey => "signing_key",
        User => "user",
    }
}
