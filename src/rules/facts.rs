//! The facts the rules read (RULES.md, "Learners, institutions and their facts"), loaded by the
//! caller, plus the small questions every rule asks of them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::as_of::AsOf;
use super::dates::{self, Span};
use super::fast_map::FastMap;
use super::params::{OccupationRelation, Parameters};
use crate::domain::{
    AwardKind, CertificateId, CertificateKind, CertificateStatus, ClassType, EducationLevel,
    EmploymentId, EnrollmentId, EnrollmentStatus, Hukou, InstitutionId, InstitutionKind,
    LearnerKind, SkillLevel,
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facts {
    pub learner: LearnerFacts,
    pub certificates: Vec<CertificateFact>,
    pub enrollments: Vec<EnrollmentFact>,
    pub employments: Vec<EmploymentFact>,
    pub awards: Vec<AwardFact>,
    /// Catalog flags of every occupation the other facts mention.
    pub occupations: FastMap<String, OccupationFact>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnerFacts {
    pub kind: LearnerKind,
    pub hukou: Option<Hukou>,
    pub residence_permit_since: Option<NaiveDate>,
    pub social_insurance_since: Option<NaiveDate>,
    pub income_tax_in_shanghai: Option<bool>,
    pub insurance_base_at_least_average_6_of_12: Option<bool>,
    pub education_level: Option<EducationLevel>,
    pub education_occupations: Vec<String>,
}

impl Default for LearnerFacts {
    fn default() -> Self {
        Self {
            kind: LearnerKind::Student,
            hukou: None,
            residence_permit_since: None,
            social_insurance_since: None,
            income_tax_in_shanghai: None,
            insurance_base_at_least_average_6_of_12: None,
            education_level: None,
            education_occupations: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateFact {
    /// The stored certificate, or none for a hypothetical one (what-if).
    #[schema(value_type = Option<i64>)]
    pub id: Option<CertificateId>,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub occupation: String,
    pub issued_on: NaiveDate,
    pub status: CertificateStatus,
}

impl CertificateFact {
    /// Counts for a level condition: verified, and a 职业技能等级证书 or 职业资格证书.
    pub fn counts_for_level(&self) -> bool {
        self.status == CertificateStatus::Verified
            && self.kind != CertificateKind::PreparatoryTechnician
    }

    pub fn label(&self) -> String {
        let mut out = String::with_capacity(64);
        match self.id {
            Some(id) => {
                out.push('#');
                super::compose::Piece::push_to(&id.get(), &mut out);
            }
            None => out.push_str("hypothetical"),
        }
        out.push(' ');
        out.push_str(self.level.name_zh());
        out.push(' ');
        out.push_str(&self.occupation);
        out.push(' ');
        dates::push_ymd(&mut out, self.issued_on);
        out.push_str(" (");
        out.push_str(self.status.as_str());
        out.push(')');
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstitutionFact {
    pub id: InstitutionId,
    pub name: String,
    pub kind: InstitutionKind,
    pub assessed: bool,
    /// 新型技师学院 periods: (from, until).
    pub designations: Vec<(NaiveDate, Option<NaiveDate>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollmentFact {
    pub id: EnrollmentId,
    pub institution: InstitutionFact,
    pub program_name: String,
    pub program_occupation: String,
    pub related_occupations: Vec<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub full_time: bool,
    pub status: EnrollmentStatus,
    pub class_type: ClassType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EmploymentFact {
    #[schema(value_type = Option<i64>)]
    pub id: Option<EmploymentId>,
    pub employer: String,
    pub occupation: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub in_shanghai: bool,
    pub frontline: bool,
    /// 专职从事高技能人才培养 at a new-type technician college (policy 五(四)).
    pub dedicated_trainer: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AwardFact {
    pub kind: AwardKind,
    pub awarded_on: NaiveDate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OccupationFact {
    pub name: String,
    pub high_skill_catalog: bool,
    pub technician_catalog: bool,
    pub priority_industry: bool,
}

impl EnrollmentFact {
    /// The program's primary and related occupations.
    pub fn occupations(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.program_occupation.as_str())
            .chain(self.related_occupations.iter().map(String::as_str))
    }

    pub fn in_program_occupations(&self, occupation: &str) -> bool {
        self.occupations().any(|o| o == occupation)
    }

    /// "At a new-type technician college" (Interpretation `designation_overlap`): by default the
    /// enrollment period overlaps a designation period of the institution; under
    /// `designated_at_certificate`, the institution is designated on `on` (the certificate's date)
    /// when there is one.
    pub fn at_designated_college(&self, params: &Parameters, on: Option<NaiveDate>) -> bool {
        let designations = &self.institution.designations;
        match (
            params.choice(crate::param!("interpretation.designation_overlap")),
            on,
        ) {
            ("designated_at_certificate", Some(day)) => designations
                .iter()
                .any(|(from, until)| *from <= day && until.is_none_or(|u| day <= u)),
            _ => designations
                .iter()
                .any(|(from, until)| *from <= self.end && until.is_none_or(|u| self.start <= u)),
        }
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// A graduate on `as_of`: status graduated, and the end date reached.
    pub fn graduated_by(&self, as_of: &AsOf) -> bool {
        self.status == EnrollmentStatus::Graduated && as_of.reached(self.end)
    }

    /// 在校应届毕业生: still enrolled, ending within `final_year_months` of `as_of`.
    pub fn final_year_on(&self, as_of: &AsOf, params: &Parameters) -> bool {
        self.status == EnrollmentStatus::Enrolled
            && as_of.not_after(self.end)
            && as_of.within_months(self.end, params.final_year_months())
    }

    /// The last day the learner counts as a fresh graduate (应届毕业生) of this enrollment.
    pub fn fresh_graduate_until(&self, params: &Parameters) -> NaiveDate {
        params.fresh_graduate_until(self.end)
    }

    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(96);
        out.push_str(&self.institution.name);
        out.push_str(" · ");
        out.push_str(&self.program_name);
        out.push_str(" (");
        dates::push_ymd(&mut out, self.start);
        out.push_str(" – ");
        dates::push_ymd(&mut out, self.end);
        out.push_str(", ");
        out.push_str(self.status.as_str());
        out.push(')');
        out
    }
}

impl EmploymentFact {
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
        }
    }

    /// Current on `as_of`: started, and not ended before.
    pub fn current_on(&self, as_of: &AsOf) -> bool {
        as_of.reached(self.start) && self.end.is_none_or(|e| as_of.not_after(e))
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|e| e >= date)
    }

    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(64);
        out.push_str(&self.employer);
        out.push(' ');
        out.push_str(&self.occupation);
        out.push_str(" (");
        dates::push_ymd(&mut out, self.start);
        out.push_str(" – ");
        match self.end {
            Some(end) => dates::push_ymd(&mut out, end),
            None => out.push_str("now"),
        }
        out.push(')');
        out
    }
}

impl Facts {
    /// The catalog flags of an occupation (all false when it is not in the catalog).
    pub fn occupation(&self, code: &str) -> &OccupationFact {
        static UNKNOWN: OccupationFact = OccupationFact {
            name: String::new(),
            high_skill_catalog: false,
            technician_catalog: false,
            priority_industry: false,
        };
        self.occupations.get(code).unwrap_or(&UNKNOWN)
    }

    pub fn occupation_label(&self, code: &str) -> String {
        match self.occupations.get(code) {
            Some(o) if !o.name.is_empty() => crate::compose!(code, " ", o.name),
            _ => code.to_owned(),
        }
    }

    /// Certificates that count for level conditions.
    pub fn level_certificates(&self) -> impl Iterator<Item = &CertificateFact> {
        self.certificates.iter().filter(|c| c.counts_for_level())
    }

    /// The highest verified level held in `occupation`, if any.
    pub fn highest_level_in(&self, occupation: &str) -> Option<SkillLevel> {
        self.level_certificates()
            .filter(|c| c.occupation == occupation)
            .map(|c| c.level)
            .max()
    }

    /// Whether two occupations are "related" (Interpretation `occupation_relation`).
    pub fn related(&self, a: &str, b: &str, params: &Parameters) -> bool {
        match params.occupation_relation() {
            OccupationRelation::SameCode => a == b,
            // D-DD-DD: the first seven characters name the 小类.
            OccupationRelation::SameMinorGroup => a.get(..7).is_some() && a.get(..7) == b.get(..7),
        }
    }

    /// Employment spells related to `occupation` (a dedicated trainer's spell counts in the
    /// occupation it trains, policy 五(四)).
    pub fn related_spells<'a>(
        &'a self,
        occupation: &'a str,
        params: &'a Parameters,
    ) -> impl Iterator<Item = &'a EmploymentFact> {
        self.employments
            .iter()
            .filter(move |e| self.related(&e.occupation, occupation, params))
    }

    pub fn related_spans(&self, occupation: &str, params: &Parameters) -> Vec<Span> {
        self.related_spells(occupation, params)
            .map(EmploymentFact::span)
            .collect()
    }

    /// A current spell whose occupation matches `occupation` ("matches the post").
    pub fn current_post_matching(
        &self,
        occupation: &str,
        as_of: &AsOf,
        params: &Parameters,
    ) -> Option<&EmploymentFact> {
        self.employments
            .iter()
            .find(|e| e.current_on(as_of) && self.related(&e.occupation, occupation, params))
    }
}

/// A skill level in both languages.
pub fn level_text(level: SkillLevel) -> super::Text {
    super::Text::new(level.name_zh(), level.name_en())
}

/// A yes/no/unknown fact as the trace shows it.
pub fn shown(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not recorded",
    }
}

/// Where a learner stands in a fresh-graduate (应届毕业生) window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Will open on the date (graduation, or when the last condition is met).
    Opens(NaiveDate),
    /// Open since the first date, until the second.
    Open(NaiveDate, NaiveDate),
    /// Was open, closed on the date.
    Closed(NaiveDate),
    /// Cannot open: the conditions come after the window, or the learner withdrew.
    Missed,
}

impl EnrollmentFact {
    /// The window of an enrollment's fresh-graduate treatment, given since when the other
    /// conditions hold (`ready_since`).
    pub fn fresh_graduate_window(
        &self,
        params: &Parameters,
        as_of: &AsOf,
        ready_since: NaiveDate,
    ) -> Window {
        if self.status == EnrollmentStatus::Withdrawn {
            return Window::Missed;
        }
        let until = self.fresh_graduate_until(params);
        let from = self.end.max(ready_since);
        if from > until {
            return Window::Missed;
        }
        if !as_of.reached(from) || self.status == EnrollmentStatus::Enrolled {
            return if as_of.not_after(until) {
                Window::Opens(from)
            } else {
                Window::Missed
            };
        }
        if as_of.not_after(until) {
            Window::Open(from, until)
        } else {
            Window::Closed(until)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{
        catalog, d, enrollment, institution, job, verified, ELECTRICIAN, MECHANIC, ROBOTICS,
    };
    use crate::rules::AsOf;

    /// Designation periods: from, and until (none: open).
    type Periods<'a> = &'a [(&'a str, Option<&'a str>)];

    fn college_enrollment(designated: Periods) -> EnrollmentFact {
        let mut college = institution(InstitutionKind::TechnicianCollege, None);
        college.designations = designated
            .iter()
            .map(|(from, until)| (d(from), until.map(d)))
            .collect();
        enrollment(
            college,
            "2022-09-01",
            "2025-06-30",
            EnrollmentStatus::Enrolled,
        )
    }

    /// The texts the traces show of certificates, enrollments, jobs and occupations.
    #[test]
    fn records_are_described_in_the_traces_exactly() {
        let mut certificate = verified(12, SkillLevel::SeniorWorker, ELECTRICIAN, "2023-06-30");
        assert_eq!(
            certificate.label(),
            "#12 高级工 6-18-02-04 2023-06-30 (verified)"
        );
        certificate.id = None;
        assert_eq!(
            certificate.label(),
            "hypothetical 高级工 6-18-02-04 2023-06-30 (verified)"
        );
        assert_eq!(
            college_enrollment(&[]).describe(),
            "某技师学院 · 电气自动化 (2022-09-01 – 2025-06-30, enrolled)"
        );
        let mut work = job(MECHANIC, "2020-01-01", Some("2021-03-31"));
        assert_eq!(
            work.describe(),
            "某公司 6-18-01-01 (2020-01-01 – 2021-03-31)"
        );
        work.end = None;
        assert_eq!(work.describe(), "某公司 6-18-01-01 (2020-01-01 – now)");

        let mut facts = Facts::default();
        catalog(&mut facts);
        assert_eq!(facts.occupation_label(ELECTRICIAN), "6-18-02-04 电工");
        assert_eq!(facts.occupation_label("9-99-99-99"), "9-99-99-99");
        facts.occupations.get_mut(ELECTRICIAN).unwrap().name.clear();
        assert_eq!(facts.occupation_label(ELECTRICIAN), "6-18-02-04");
    }

    #[test]
    fn a_program_covers_its_own_and_its_related_occupations_only() {
        let mut e = college_enrollment(&[]);
        e.related_occupations.push(ROBOTICS.into());
        assert!(e.in_program_occupations(ELECTRICIAN));
        assert!(e.in_program_occupations(ROBOTICS));
        assert!(!e.in_program_occupations(MECHANIC));
    }

    /// Interpretation `designation_overlap`: by default any overlap of the enrollment
    /// (2022-09-01 – 2025-06-30) with a designation, edges included; under
    /// `designated_at_certificate`, designated on the certificate's day, edges included.
    #[test]
    fn a_designated_college_by_overlap_or_on_the_certificates_day() {
        let overlap = Parameters::seed();
        let on_day = Parameters::seed().with(
            "interpretation.designation_overlap",
            "designated_at_certificate".into(),
        );
        let cases: [(Periods, bool); 6] = [
            (&[("2025-06-30", None)], true),  // starts on the last day
            (&[("2025-07-01", None)], false), // starts after it
            (&[("2020-01-01", Some("2022-09-01"))], true), // ends on the first day
            (&[("2020-01-01", Some("2022-08-31"))], false), // ends before it
            (&[("2023-01-01", Some("2023-12-31"))], true), // within
            (&[], false),
        ];
        for (designations, expected) in cases {
            let e = college_enrollment(designations);
            assert_eq!(
                e.at_designated_college(&overlap, None),
                expected,
                "{designations:?}"
            );
            assert_eq!(
                e.at_designated_college(&overlap, Some(d("2030-01-01"))),
                expected,
                "by overlap the certificate's day does not matter: {designations:?}"
            );
            // Without a certificate's day, the other reading falls back to the overlap.
            assert_eq!(
                e.at_designated_college(&on_day, None),
                expected,
                "{designations:?}"
            );
        }
        let e = college_enrollment(&[("2023-01-01", Some("2023-12-31"))]);
        for (day, expected) in [
            ("2022-12-31", false),
            ("2023-01-01", true),
            ("2023-12-31", true),
            ("2024-01-01", false),
        ] {
            assert_eq!(
                e.at_designated_college(&on_day, Some(d(day))),
                expected,
                "{day}"
            );
        }
        let open = college_enrollment(&[("2023-01-01", None)]);
        assert!(open.at_designated_college(&on_day, Some(d("2040-01-01"))));
    }

    /// 在校应届毕业生: enrolled, not past the end, ending within `final_year_months` (12).
    #[test]
    fn a_final_year_student_is_enrolled_and_ends_within_the_months() {
        let params = Parameters::seed();
        let e = college_enrollment(&[]); // ends 2025-06-30
        let on = |e: &EnrollmentFact, day: &str| e.final_year_on(&AsOf::new(d(day)), &params);
        assert!(!on(&e, "2024-06-29"));
        assert!(on(&e, "2024-06-30"));
        assert!(on(&e, "2025-06-30"));
        assert!(!on(&e, "2025-07-01"));
        let mut graduated = e.clone();
        graduated.status = EnrollmentStatus::Graduated;
        assert!(!on(&graduated, "2025-01-01"));
    }

    /// A job is current from its first day through its last (an open one from its first day on);
    /// it covers the same days.
    #[test]
    fn a_job_is_current_and_covers_its_days_edges_included() {
        let ended = job(MECHANIC, "2020-01-01", Some("2021-03-31"));
        let open = job(MECHANIC, "2020-01-01", None);
        for (day, within) in [
            ("2019-12-31", false),
            ("2020-01-01", true),
            ("2021-03-31", true),
            ("2021-04-01", false),
        ] {
            assert_eq!(ended.current_on(&AsOf::new(d(day))), within, "{day}");
            assert_eq!(ended.covers(d(day)), within, "{day}");
            assert_eq!(
                open.current_on(&AsOf::new(d(day))),
                day != "2019-12-31",
                "{day}"
            );
            assert_eq!(open.covers(d(day)), day != "2019-12-31", "{day}");
        }
    }

    #[test]
    fn occupations_are_related_by_code_or_by_minor_group() {
        let facts = Facts::default();
        let same_code = Parameters::seed();
        let minor_group = Parameters::seed().with(
            "interpretation.occupation_relation",
            "same_minor_group".into(),
        );
        for (a, b, by_code, by_group) in [
            ("6-18-02-04", "6-18-02-04", true, true),
            ("6-18-02-04", "6-18-02-05", false, true),
            ("6-18-02-04", "6-18-01-01", false, false),
            // A code too short to name a 小类 is related to nothing by group, not even itself.
            ("6-18", "6-18", true, false),
        ] {
            assert_eq!(facts.related(a, b, &same_code), by_code, "{a} {b}");
            assert_eq!(facts.related(a, b, &minor_group), by_group, "{a} {b}");
        }
    }

    /// The post that matches is a current one in a related occupation: an ended job in the
    /// occupation does not count, nor does a current job in another.
    #[test]
    fn the_matching_post_is_current_and_related() {
        let params = Parameters::seed();
        let mut facts = Facts::default();
        facts
            .employments
            .push(job(ELECTRICIAN, "2019-01-01", Some("2021-12-31")));
        facts.employments.push(job(MECHANIC, "2022-01-01", None));
        let today = AsOf::new(d("2024-01-01"));
        assert!(facts
            .current_post_matching(ELECTRICIAN, &today, &params)
            .is_none());
        let found = facts.current_post_matching(MECHANIC, &today, &params);
        assert_eq!(found.map(|e| e.start), Some(d("2022-01-01")));
    }

    #[test]
    fn a_recorded_yes_no_or_nothing_is_shown_as_such() {
        assert_eq!(
            [shown(Some(true)), shown(Some(false)), shown(None)],
            ["yes", "no", "not recorded"]
        );
    }

    /// The fresh-graduate window of an enrollment ending 2025-06-30 (until 2025-12-31 under the
    /// seed's end-of-graduation-year reading), by the day and by when the other conditions hold.
    #[test]
    fn the_fresh_graduate_window_opens_holds_and_closes() {
        let params = Parameters::seed();
        let mut graduated = college_enrollment(&[]);
        graduated.status = EnrollmentStatus::Graduated;
        let window = |e: &EnrollmentFact, on: &str, ready: &str| {
            e.fresh_graduate_window(&params, &AsOf::new(d(on)), d(ready))
        };
        let (end, until) = (d("2025-06-30"), d("2025-12-31"));
        let enrolled = college_enrollment(&[]);
        for (e, on, ready, expected) in [
            (&graduated, "2025-06-01", "2025-01-01", Window::Opens(end)),
            (
                &graduated,
                "2025-07-01",
                "2025-01-01",
                Window::Open(end, until),
            ),
            (
                &graduated,
                "2026-01-01",
                "2025-01-01",
                Window::Closed(until),
            ),
            // Ready on the window's last day: open for that one day.
            (
                &graduated,
                "2025-12-31",
                "2025-12-31",
                Window::Open(until, until),
            ),
            // Ready after it: missed, whatever the day.
            (&graduated, "2025-12-31", "2026-01-01", Window::Missed),
            (&graduated, "2025-01-01", "2026-01-01", Window::Missed),
            // Still enrolled after the planned end: it opens on graduation, not before.
            (&enrolled, "2025-07-01", "2025-01-01", Window::Opens(end)),
            (&enrolled, "2026-01-01", "2025-01-01", Window::Missed),
        ] {
            assert_eq!(
                window(e, on, ready),
                expected,
                "{:?} on {on}, ready {ready}",
                e.status
            );
        }
        let mut withdrawn = graduated.clone();
        withdrawn.status = EnrollmentStatus::Withdrawn;
        assert_eq!(
            window(&withdrawn, "2025-07-01", "2025-01-01"),
            Window::Missed
        );
    }
}
