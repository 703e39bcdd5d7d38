//! The learner every engine measurement evaluates: a technician-college graduate now employed,
//! with 3 certificates, 2 enrollments and 3 employment spells (shared by the criterion benchmark
//! and the instruction count).

use chrono::NaiveDate;

use skillpath::domain::{
    CertificateId, CertificateKind, CertificateStatus, ClassType, EnrollmentId, EnrollmentStatus,
    Hukou, InstitutionId, InstitutionKind, LearnerKind, SkillLevel,
};
use skillpath::rules::facts::{
    CertificateFact, EmploymentFact, EnrollmentFact, Facts, InstitutionFact, LearnerFacts,
    OccupationFact,
};

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// A technician-college graduate now employed: 中级工 and 高级工 from college, a 技师 pending.
pub fn realistic_learner() -> Facts {
    let college = InstitutionFact {
        id: InstitutionId(1),
        name: "上海某技师学院".into(),
        kind: InstitutionKind::TechnicianCollege,
        assessed: true,
        designations: vec![(d("2021-12-13"), None)],
    };
    let cert = |id, level, occupation: &str, issued: &str, status| CertificateFact {
        id: Some(CertificateId(id)),
        kind: CertificateKind::SkillLevel,
        level,
        occupation: occupation.into(),
        issued_on: d(issued),
        status,
    };
    let enrollment = |id, start: &str, end: &str, status, class_type| EnrollmentFact {
        id: EnrollmentId(id),
        institution: college.clone(),
        program_name: "电气自动化设备安装与维修".into(),
        program_occupation: "6-31-01-03".into(),
        related_occupations: vec!["6-18-02-04".into()],
        start: d(start),
        end: d(end),
        full_time: true,
        status,
        class_type,
    };
    let job = |employer: &str, occupation: &str, start: &str, end: Option<&str>| EmploymentFact {
        id: None,
        employer: employer.into(),
        occupation: occupation.into(),
        start: d(start),
        end: end.map(d),
        in_shanghai: true,
        frontline: true,
        dedicated_trainer: false,
    };
    let mut occupations = skillpath::rules::fast_map::FastMap::default();
    for (code, name) in [("6-31-01-03", "电气设备安装工"), ("6-18-02-04", "电工")] {
        occupations.insert(
            code.to_owned(),
            OccupationFact {
                name: name.into(),
                high_skill_catalog: true,
                technician_catalog: true,
                priority_industry: code == "6-31-01-03",
            },
        );
    }
    Facts {
        learner: LearnerFacts {
            kind: LearnerKind::Employee,
            hukou: Some(Hukou::Other),
            residence_permit_since: Some(d("2019-09-01")),
            social_insurance_since: Some(d("2021-07-01")),
            income_tax_in_shanghai: Some(true),
            insurance_base_at_least_average_6_of_12: Some(true),
            education_level: None,
            education_occupations: Vec::new(),
        },
        certificates: vec![
            cert(
                1,
                SkillLevel::IntermediateWorker,
                "6-31-01-03",
                "2021-06-30",
                CertificateStatus::Verified,
            ),
            cert(
                2,
                SkillLevel::SeniorWorker,
                "6-31-01-03",
                "2023-06-28",
                CertificateStatus::Verified,
            ),
            cert(
                3,
                SkillLevel::Technician,
                "6-18-02-04",
                "2026-06-30",
                CertificateStatus::Pending,
            ),
        ],
        enrollments: vec![
            enrollment(
                1,
                "2019-09-01",
                "2022-06-30",
                EnrollmentStatus::Graduated,
                ClassType::Regular,
            ),
            enrollment(
                2,
                "2022-09-01",
                "2024-06-30",
                EnrollmentStatus::Graduated,
                ClassType::TechnicianClass,
            ),
        ],
        employments: vec![
            job(
                "上海某电气有限公司",
                "6-31-01-03",
                "2022-07-01",
                Some("2023-12-31"),
            ),
            job("上海某电气有限公司", "6-31-01-03", "2024-07-01", None),
            job("某物业公司", "6-18-02-04", "2023-03-01", Some("2024-02-29")),
        ],
        awards: Vec::new(),
        occupations,
    }
}
