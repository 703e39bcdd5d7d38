//! The vocabularies of notifications, stored with each outbox row and inbox message. Their texts
//! live with the messages (`notify::messages`), their preferences with `notify::preferences`.

crate::string_enum! {
    /// What a notification is about; preferences are per category (and channel).
    Category {
        Certificate => "certificate",
        Milestone => "milestone",
        /// Someone looked at what the learner shared, or at their records as their employer.
        Share => "share",
        /// Links that let a person in (an invitation, a password reset): email only, at once,
        /// whatever the preferences, never with an unsubscribe link.
        Account => "account",
        /// An institution's affairs: its designation application and its targets (to its staff).
        Institution => "institution",
        /// The answers to the learner's own requests about their data (a correction decided):
        /// asked for by them, so both channels, not a preference, no unsubscribe link.
        Requests => "requests",
    }
}

crate::string_enum! {
    /// What a notice says happened; stored with its outbox row, and choosing the closing line
    /// of its email.
    NoticeKind {
        /// A milestone is met: the learner can apply.
        NewlyMet => "newly_met",
        /// A milestone will be met on a known date.
        NewlyUpcoming => "newly_upcoming",
        /// An open milestone's date moved.
        DateMoved => "date_moved",
        Achieved => "achieved",
        /// What the learner held is no longer met.
        Lost => "lost",
        /// An application window closed.
        Lapsed => "lapsed",
        /// Days before an upcoming milestone.
        Reminder => "reminder",
        /// A certificate of the learner's was verified, rejected or revoked.
        CertificateVerified => "verify",
        CertificateRejected => "reject",
        CertificateRevoked => "revoke",
        /// To HR staff: a certificate they viewed was revoked.
        ReliedRevoked => "relied_revoked",
        /// HR staff viewed what the learner shared.
        ShareAccessed => "share_accessed",
        /// The learner's employer viewed their verified records.
        EmployerViewed => "employer_viewed",
        /// A learner is invited to activate their account (a one-time link).
        Invitation => "invitation",
        /// Someone asked to reset the account's password (a one-time link).
        PasswordReset => "password_reset",
        /// A learner's correction request was accepted: the fact changed.
        CorrectionAccepted => "correction_accepted",
        /// A learner's correction request was refused, with the reason.
        CorrectionRefused => "correction_refused",
        /// The learner asked to delete their account: when it will be erased, and how to cancel.
        DeletionScheduled => "deletion_scheduled",
        /// The learner cancelled the deletion of their account.
        DeletionCancelled => "deletion_cancelled",
        /// Staff produced a copy of the learner's data (at their request).
        DataExported => "data_exported",
        /// To an institution's staff: a step was taken on its designation application.
        ApplicationStep => "application_step",
        /// To an institution's staff: after the third quarter, a yearly target its pace leaves short.
        TargetAtRisk => "target_at_risk",
    }
}

crate::string_enum! {
    /// What a one-time account link is for.
    LinkPurpose {
        /// Activate a learner's account: choose the password of a new account.
        Invitation => "invitation",
        /// Choose a new password for an existing account.
        PasswordReset => "password_reset",
    }
}

crate::string_enum! {
    /// How a notice reaches its recipient.
    Channel {
        /// The in-app inbox.
        Inbox => "inbox",
        Email => "email",
    }
}

crate::string_enum! {
    /// The state of an outbox row.
    OutboxStatus {
        Pending => "pending",
        Sent => "sent",
        Dead => "dead",
        Withdrawn => "withdrawn",
    }
}
