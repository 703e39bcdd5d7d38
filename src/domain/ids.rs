//! Typed ids: a learner's id cannot be passed where an institution's is meant.
//!
//! Each is an `i64` on the wire (serde transparent), in the database (`BigInt`) and in the
//! OpenAPI document (fields say `#[schema(value_type = i64)]`; the ids deliberately do not derive
//! `ToSchema`, so a forgotten annotation fails to compile instead of adding a named schema).

/// Declares an id newtype over `i64` that diesel stores as `BigInt`.
macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize,
                 diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <i64 as diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <i64 as diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

typed_id! {
    /// A learner (`learners.id`).
    LearnerId;
    /// A college, training body or enterprise (`institutions.id`).
    InstitutionId;
    /// An account (`users.id`).
    UserId;
    /// A certificate (`certificates.id`).
    CertificateId;
    /// A training program of an institution (`programs.id`).
    ProgramId;
    /// A cohort of a program (`cohorts.id`).
    CohortId;
    /// A learner's enrollment in a program (`enrollments.id`).
    EnrollmentId;
    /// A learner's job (`employments.id`).
    EmploymentId;
    /// A competition award (`awards.id`).
    AwardId;
    /// A learner's share with an enterprise (`shares.id`).
    ShareId;
    /// A queued notice (`notification_outbox.id`).
    NoticeId;
    /// A message in an inbox (`inbox_messages.id`).
    MessageId;
    /// A designation of an institution (`designations.id`).
    DesignationId;
    /// A learner's request to correct a recorded fact (`correction_requests.id`).
    CorrectionRequestId;
    /// A durable background job (`jobs.id`).
    JobId;
    /// An application to become a 新型技师学院 (`designation_applications.id`).
    DesignationApplicationId;
    /// A step taken on such an application (`designation_steps.id`).
    DesignationStepId;
    /// An institution's partnership with an enterprise or college (`partnerships.id`).
    PartnershipId;
    /// Training or assessment an institution delivered (`training_deliveries.id`).
    TrainingDeliveryId;
    /// A teacher of an institution in a year (`teacher_years.id`).
    TeacherYearId;
    /// Teacher training or enterprise practice (`teacher_development.id`).
    TeacherDevelopmentId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&LearnerId(42)).unwrap(), "42");
        let id: CertificateId = serde_json::from_str("7").unwrap();
        assert_eq!(id, CertificateId(7));
        assert!(serde_json::from_str::<UserId>("\"7\"").is_err());
        assert_eq!("12".parse::<CohortId>().unwrap().get(), 12);
        assert_eq!(ShareId(3).to_string(), "3");
    }
}
