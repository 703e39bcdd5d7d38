//! The closed vocabularies of RULES.md, stored as their snake_case names.

crate::string_enum! {
    /// Institution kinds (RULES.md, "Learners, institutions and their facts").
    InstitutionKind {
        SecondaryVocational => "secondary_vocational",
        TechnicalSchool => "technical_school",
        SeniorTechnicalSchool => "senior_technical_school",
        TechnicianCollege => "technician_college",
        HigherVocational => "higher_vocational",
        UndergraduateVocational => "undergraduate_vocational",
        Enterprise => "enterprise",
    }
}

crate::string_enum! {
    /// 在校学生, 在职职工, 社会人员 (policy 二(一), 三(三)).
    LearnerKind {
        Student => "student",
        Employee => "employee",
        Social => "social",
    }
}

crate::string_enum! {
    EnrollmentStatus {
        Enrolled => "enrolled",
        Graduated => "graduated",
        Withdrawn => "withdrawn",
    }
}

impl EnrollmentStatus {
    /// `enrolled` may become `graduated` or `withdrawn`; those are final.
    pub fn may_become(self, next: EnrollmentStatus) -> bool {
        self == EnrollmentStatus::Enrolled && next != EnrollmentStatus::Enrolled
    }
}

crate::string_enum! {
    /// 企业冠名班, 技师班, 新型学徒制/现代学徒制, or an ordinary class.
    ClassType {
        NamedClass => "named_class",
        TechnicianClass => "technician_class",
        Apprenticeship => "apprenticeship",
        Regular => "regular",
    }
}

crate::string_enum! {
    /// 职业技能等级证书, 职业资格证书, 预备技师证书.
    CertificateKind {
        SkillLevel => "skill_level",
        VocationalQualification => "vocational_qualification",
        PreparatoryTechnician => "preparatory_technician",
    }
}

crate::string_enum! {
    CertificateStatus {
        Pending => "pending",
        Verified => "verified",
        Rejected => "rejected",
        Revoked => "revoked",
    }
}

crate::string_enum! {
    /// An evaluator's decision on a certificate.
    Decision {
        Verify => "verify",
        Reject => "reject",
        Revoke => "revoke",
    }
}

impl Decision {
    /// The status a decision leads to from `from`, if the transition is allowed:
    /// `pending` → `verified` | `rejected`; `verified` → `revoked`.
    pub fn apply(self, from: CertificateStatus) -> Option<CertificateStatus> {
        match (from, self) {
            (CertificateStatus::Pending, Decision::Verify) => Some(CertificateStatus::Verified),
            (CertificateStatus::Pending, Decision::Reject) => Some(CertificateStatus::Rejected),
            (CertificateStatus::Verified, Decision::Revoke) => Some(CertificateStatus::Revoked),
            _ => None,
        }
    }
}

crate::string_enum! {
    AwardKind {
        NationalCompetitionMedal => "national_competition_medal",
        ProvincialCompetitionGold => "provincial_competition_gold",
        NationalOrProvincialHonour => "national_or_provincial_honour",
        Other => "other",
    }
}

crate::string_enum! {
    Hukou {
        Shanghai => "shanghai",
        Other => "other",
    }
}

crate::string_enum! {
    /// Highest education: 中专/高中, 大专, 本科, 硕士, 博士.
    EducationLevel {
        Secondary => "secondary",
        Associate => "associate",
        Bachelor => "bachelor",
        Master => "master",
        Doctorate => "doctorate",
    }
}

crate::string_enum! {
    /// The language a learner reads notifications and milestones in.
    Language {
        ZhCn => "zh-CN",
        En => "en",
    }
}

crate::string_enum! {
    /// Which known shape a certificate number has (RULES.md, Certificates; Unconfirmed).
    NumberFormat {
        SkillLevel => "skill_level",
        VocationalQualification => "vocational_qualification",
        Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_transitions() {
        use CertificateStatus::*;
        assert_eq!(Decision::Verify.apply(Pending), Some(Verified));
        assert_eq!(Decision::Reject.apply(Pending), Some(Rejected));
        assert_eq!(Decision::Revoke.apply(Verified), Some(Revoked));
        assert_eq!(Decision::Revoke.apply(Pending), None);
        assert_eq!(Decision::Verify.apply(Rejected), None);
        assert_eq!(Decision::Verify.apply(Revoked), None);
        assert_eq!(Decision::Reject.apply(Verified), None);
    }

    #[test]
    fn enrollment_transitions() {
        use EnrollmentStatus::*;
        assert!(Enrolled.may_become(Graduated));
        assert!(Enrolled.may_become(Withdrawn));
        assert!(!Graduated.may_become(Enrolled));
        assert!(!Withdrawn.may_become(Graduated));
        assert!(!Enrolled.may_become(Enrolled));
    }

    #[test]
    fn unknown_values_list_the_allowed_ones() {
        let err = "college".parse::<InstitutionKind>().unwrap_err();
        assert!(err.contains("technician_college"));
        assert_eq!("zh-CN".parse::<Language>().unwrap(), Language::ZhCn);
    }
}

crate::string_enum! {
    /// Why an HR account could see a learner's records.
    AccessBasis {
        /// Through a share the learner made.
        Share => "share",
        /// As the learner's recorded employer.
        Employment => "employment",
    }
}

crate::string_enum! {
    /// Which date of a milestone a calendar event marks.
    CalendarMoment {
        /// The day the learner becomes eligible.
        EligibleFrom => "eligible_from",
        /// The last day of an open window.
        OpenUntil => "open_until",
    }
}

crate::string_enum! {
    /// Which record a correction request is about.
    CorrectionRecord {
        /// The learner's own facts (the `learners` row).
        Learner => "learner",
        Enrollment => "enrollment",
        Employment => "employment",
    }
}

crate::string_enum! {
    /// Where a correction request stands.
    CorrectionStatus {
        Pending => "pending",
        Accepted => "accepted",
        Refused => "refused",
    }
}

crate::string_enum! {
    /// What staff decide on a correction request.
    CorrectionDecision {
        /// The fact changes as asked.
        Accept => "accept",
        /// The fact stays; the reason is given.
        Refuse => "refuse",
    }
}
