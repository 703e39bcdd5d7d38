//! Builders for the rules' unit tests.

use chrono::NaiveDate;

use super::facts::{
    CertificateFact, EmploymentFact, EnrollmentFact, Facts, InstitutionFact, OccupationFact,
};
use crate::domain::{
    CertificateId, CertificateKind, CertificateStatus, ClassType, EmploymentId, EnrollmentId,
    EnrollmentStatus, InstitutionId, InstitutionKind, LearnerKind, SkillLevel,
};

pub const ELECTRICIAN: &str = "6-18-02-04";
pub const MECHANIC: &str = "6-18-01-01";
pub const ROBOTICS: &str = "6-20-03-01";

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn cert(
    id: i64,
    level: SkillLevel,
    occupation: &str,
    issued: &str,
    status: CertificateStatus,
) -> CertificateFact {
    CertificateFact {
        id: Some(CertificateId(id)),
        kind: CertificateKind::SkillLevel,
        level,
        occupation: occupation.into(),
        issued_on: d(issued),
        status,
    }
}

pub fn verified(id: i64, level: SkillLevel, occupation: &str, issued: &str) -> CertificateFact {
    cert(id, level, occupation, issued, CertificateStatus::Verified)
}

pub fn institution(kind: InstitutionKind, designated_from: Option<&str>) -> InstitutionFact {
    InstitutionFact {
        id: InstitutionId(1),
        name: "某技师学院".into(),
        kind,
        assessed: false,
        designations: designated_from
            .map(|f| vec![(d(f), None)])
            .unwrap_or_default(),
    }
}

pub fn enrollment(
    institution: InstitutionFact,
    start: &str,
    end: &str,
    status: EnrollmentStatus,
) -> EnrollmentFact {
    EnrollmentFact {
        id: EnrollmentId(1),
        institution,
        program_name: "电气自动化".into(),
        program_occupation: ELECTRICIAN.into(),
        related_occupations: Vec::new(),
        start: d(start),
        end: d(end),
        full_time: true,
        status,
        class_type: ClassType::Regular,
    }
}

pub fn job(occupation: &str, start: &str, end: Option<&str>) -> EmploymentFact {
    EmploymentFact {
        id: Some(EmploymentId(1)),
        employer: "某公司".into(),
        occupation: occupation.into(),
        start: d(start),
        end: end.map(d),
        in_shanghai: true,
        frontline: true,
        dedicated_trainer: false,
    }
}

/// A student enrolled 2022-09-01 – 2025-06-30 at a technician college designated since 2021.
pub fn student_at_designated_college(certificates: Vec<CertificateFact>) -> Facts {
    let mut facts = Facts {
        certificates,
        enrollments: vec![enrollment(
            institution(InstitutionKind::TechnicianCollege, Some("2021-12-13")),
            "2022-09-01",
            "2025-06-30",
            EnrollmentStatus::Enrolled,
        )],
        ..Facts::default()
    };
    facts.learner.kind = LearnerKind::Student;
    catalog(&mut facts);
    facts
}

/// Registers the test occupations with their flags.
pub fn catalog(facts: &mut Facts) {
    for (code, name, high, tech, priority) in [
        (ELECTRICIAN, "电工", true, true, false),
        (MECHANIC, "钳工", true, false, false),
        (ROBOTICS, "工业机器人系统操作员", true, true, true),
    ] {
        facts.occupations.insert(
            code.into(),
            OccupationFact {
                name: name.into(),
                high_skill_catalog: high,
                technician_catalog: tech,
                priority_industry: priority,
            },
        );
    }
}
