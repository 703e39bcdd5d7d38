//! Parameters as data: every number and choice of RULES.md, with effective dates and a citation.
//! The values live in the database (seeded by the migrations with the values below); the engine
//! receives the set in force on the evaluation date. A policy change is a new value from a date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::dates;
use super::fast_map::FastMap;
use crate::domain::SkillLevel;

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number within the range.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// One of the listed strings.
    Choice(&'static [&'static str]),
    /// An object mapping each skill level to points.
    LevelPoints,
    /// A list of whole numbers of days.
    DayList,
}

/// A parameter the rules read: its name, kind, seed value and where the value comes from.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    pub name: &'static str,
    pub kind: ParamKind,
    /// May be overridden per occupation (the national standards' own year counts).
    pub per_occupation: bool,
    /// The seed value, as JSON; the migrations insert the same.
    pub seed: &'static str,
    pub source: &'static str,
    pub clause: &'static str,
    /// "Unconfirmed", "Interpretation", or empty.
    pub note: &'static str,
    pub description: &'static str,
}

const SH489: &str = "沪人社职〔2021〕489号";
const STANDARD: &str = "国家职业技能标准编制技术规程（2018年版）";
const BRIDGING: &str = "关于在工程技术领域实现高技能人才与工程技术人才职业发展贯通的意见（试行）";
const POINTS: &str = "上海市居住证积分管理办法（沪府发〔2017〕98号）及实施细则";
const HUKOU: &str = "持有《上海市居住证》人员申办本市常住户口办法";
const RULES_MD: &str = "Skillpath rule specification (RULES.md)";
/// The source of parameters that are settings of the service, not of a policy text.
pub const SERVICE_SETTING: &str = "Skillpath service setting";

/// An integer parameter: `range` of allowed values; `cite` is (source, clause, note).
const fn int(
    name: &'static str,
    seed: &'static str,
    range: (i64, i64),
    per_occupation: bool,
    cite: (&'static str, &'static str, &'static str),
    description: &'static str,
) -> Definition {
    Definition {
        name,
        kind: ParamKind::Integer {
            min: range.0,
            max: range.1,
        },
        per_occupation,
        seed,
        source: cite.0,
        clause: cite.1,
        note: cite.2,
        description,
    }
}

pub const DEFINITIONS: &[Definition] = &[
    int("sh489.technician_after_senior_worker.holding_years", "2", (0, 20), false, (SH489, "五(七)", ""), "Years after the 高级工 certificate before a student may apply for 技师."),
    Definition { name: "interpretation.obtained_during_enrollment", kind: ParamKind::Boolean, per_occupation: false, seed: "true",
        source: RULES_MD, clause: "sh489.technician_after_senior_worker", note: "Interpretation",
        description: "The 高级工 certificate must be issued within the enrollment period." },
    Definition { name: "interpretation.designation_overlap", kind: ParamKind::Choice(&["enrollment_overlaps_designation", "designated_at_certificate"]),
        per_occupation: false, seed: "\"enrollment_overlaps_designation\"", source: RULES_MD, clause: "Learners, institutions and their facts",
        note: "Interpretation", description: "What 'at a new-type technician college' means." },
    int("interpretation.work_year_days", "365", (360, 366), false, (RULES_MD, "Date arithmetic", "Interpretation"), "Days of accumulated work that make one work year."),
    Definition { name: "interpretation.fresh_graduate_until", kind: ParamKind::Choice(&["end_of_graduation_year", "twelve_months_after_graduation"]),
        per_occupation: false, seed: "\"end_of_graduation_year\"", source: RULES_MD, clause: "Date arithmetic", note: "Interpretation",
        description: "How long a graduate counts as 应届毕业生." },
    int("interpretation.final_year_months", "12", (1, 36), false, (RULES_MD, "Date arithmetic", "Interpretation"), "A student ending within this many months counts as 在校应届毕业生."),
    Definition { name: "interpretation.occupation_relation", kind: ParamKind::Choice(&["same_code", "same_minor_group"]),
        per_occupation: false, seed: "\"same_code\"", source: RULES_MD, clause: "Learners, institutions and their facts", note: "Interpretation",
        description: "When an employment spell's occupation counts as related to a certificate's: the same code, or the same 小类 (D-DD-DD)." },
    int("national.next_level.intermediate_worker.years_after_junior_worker", "4", (0, 30), true, (STANDARD, "申报条件", ""), "Route (a)."),
    int("national.next_level.intermediate_worker.total_years", "6", (0, 30), true, (STANDARD, "申报条件", ""), "Route (b)."),
    int("national.next_level.senior_worker.years_after_intermediate_worker", "5", (0, 30), true, (STANDARD, "申报条件", ""), "Route (a)."),
    int("national.next_level.senior_worker.years_after_intermediate_with_degree", "2", (0, 30), true, (STANDARD, "申报条件", ""), "Route (c): 大专 or higher in a related major."),
    int("national.next_level.technician.years_after_senior_worker", "4", (0, 30), true, (STANDARD, "申报条件", ""), "Route (a)."),
    int("national.next_level.technician.total_years_for_graduates", "3", (0, 30), true, (STANDARD, "申报条件", ""), "Route (b): graduates of 高级技工学校 or 技师学院."),
    int("national.next_level.technician.total_years_with_preparatory", "2", (0, 30), true, (STANDARD, "申报条件", ""), "Route (c): 预备技师 graduates of 技师学院."),
    int("national.next_level.senior_technician.years_after_technician", "4", (0, 30), true, (STANDARD, "申报条件", ""), "Years after 技师."),
    int("national.next_level.junior_worker.total_years", "1", (0, 30), true, (STANDARD, "申报条件", ""), "Years of related work for 初级工."),
    int("sh489.professional_title.assistant_engineer_years", "2", (0, 30), false, (BRIDGING, "助理工程师", "Unconfirmed"), "高级工 + years of technical work → 助理工程师."),
    int("sh489.professional_title.engineer_years", "3", (0, 30), false, (BRIDGING, "工程师", "Unconfirmed"), "技师 + years → 工程师."),
    int("sh489.professional_title.senior_engineer_years", "4", (0, 30), false, (BRIDGING, "高级工程师", "Unconfirmed"), "高级技师 + years → 高级工程师."),
    Definition { name: "sh.residence_points.points_by_level", kind: ParamKind::LevelPoints, per_occupation: false,
        seed: r#"{"junior_worker":15,"intermediate_worker":30,"senior_worker":60,"technician":100,"senior_technician":140}"#,
        source: POINTS, clause: "专业技术职称和技能等级", note: "Unconfirmed", description: "Points per skill level." },
    int("sh.residence_points.cap", "140", (0, 1000), false, (POINTS, "专业技术职称和技能等级", "Unconfirmed"), "The most points this indicator gives."),
    int("sh.residence_points.standard_score", "120", (0, 1000), false, (POINTS, "专业技术职称和技能等级", "Unconfirmed"), "The standard score of the residence-points system."),
    Definition { name: "sh.residence_points.require_high_skill_catalog", kind: ParamKind::Boolean, per_occupation: false, seed: "false",
        source: POINTS, clause: "专业技术职称和技能等级", note: "Unconfirmed",
        description: "Whether 高级工 and below need an occupation in the 高技能人才职业工种目录." },
    int("sh.hukou_conversion.residence_permit_months", "84", (0, 600), false, (HUKOU, "居转户", "Unconfirmed"), "Months of residence permit for 居转户."),
    int("sh.hukou_conversion.social_insurance_months", "84", (0, 600), false, (HUKOU, "居转户", "Unconfirmed"), "Months of Shanghai social insurance for 居转户."),
    Definition { name: "notify.reminder_days", kind: ParamKind::DayList, per_occupation: false, seed: "[30, 7]",
        source: SERVICE_SETTING, clause: "Notifications", note: "",
        description: "Days before an upcoming milestone's date when the learner is reminded (besides on the day itself)." },
    int("retention.share_accesses_days", "365", (30, 3650), false, (SERVICE_SETTING, "Retention", ""), "Days a record of HR looking at a learner's records is kept (PIPL Art. 19: no longer than the purpose needs)."),
    int("retention.delivered_notifications_days", "180", (30, 3650), false, (SERVICE_SETTING, "Retention", ""), "Days an email notification is kept after it was sent or withdrawn (the in-app inbox keeps its own messages)."),
    int("retention.deletion_grace_days", "14", (1, 90), false, (SERVICE_SETTING, "Retention", ""), "Days between a learner's request to delete their account and the erasure of their personal information, during which they can cancel."),
    int("retention.ended_shares_days", "365", (30, 3650), false, (SERVICE_SETTING, "Retention", ""), "Days a share is kept after it expired or was revoked; then it goes with its access log (its signed statement has expired long before)."),
    int("retention.decided_corrections_days", "365", (30, 3650), false, (SERVICE_SETTING, "Retention", ""), "Days a decided correction request keeps the values asked for, the values before and the reasons; then only the fields it named, its status and its dates stay (the change itself stays in the record and its audit entry)."),
    int("sh489.partnership.min_partners", "3", (0, 100), false, (SH489, "附件 一.2 / 二.2", ""), "Stable partner enterprises (of a college) or colleges (of an enterprise) an applicant needs and a designated institution keeps."),
    int("sh489.partnership.stable_months", "12", (0, 120), false, (RULES_MD, "Institution targets", "Interpretation"), "Months a partnership must have lasted, and still be in force, to count as stable (稳定合作关系)."),
    int("sh489.designation.public_notice_min_days", "7", (1, 60), false, (SH489, "六(二)", "Interpretation"), "The shortest public notice (公示), in calendar days; the policy names no period."),
    int("sh489.kpi.senior_training_person_times", "200", (0, 1_000_000), false, (SH489, "四(一)", ""), "Yearly training at 高级工 or above a designated institution delivers, in person-times (十四五: 2021–2025)."),
    int("sh489.kpi.teacher_development_person_times", "100", (0, 1_000_000), false, (SH489, "四(二)", ""), "Yearly teacher training or enterprise practice, in person-times (十四五: 2021–2025)."),
    int("sh489.kpi.warn_from_month", "10", (1, 12), false, (RULES_MD, "Institution targets", "Interpretation"), "The month from which an institution's staff are warned of a target its pace leaves short (after the third quarter)."),
    Definition { name: "sh489.kpi.dual_teacher_share_rising", kind: ParamKind::Boolean, per_occupation: false, seed: "true",
        source: SH489, clause: "四(二)", note: "",
        description: "Whether the share of 双师型 or 一体化 teachers must rise year on year (十四五: 2021–2025)." },
];

/// Seed values in force for a period only: the 十四五 targets ran 2021–2025 (what holds after is
/// the administrators' to set). Every other seed holds from 1990-01-01, open-ended.
pub const SEED_PERIODS: &[(&str, &str, Option<&str>)] = &[
    (
        "sh489.kpi.senior_training_person_times",
        "2021-01-01",
        Some("2025-12-31"),
    ),
    (
        "sh489.kpi.teacher_development_person_times",
        "2021-01-01",
        Some("2025-12-31"),
    ),
    (
        "sh489.kpi.dual_teacher_share_rising",
        "2021-01-01",
        Some("2025-12-31"),
    ),
];

/// Parameters of institutions (their designation and targets) and of data retention, which no
/// learner rule reads: a new value of one recomputes no learner.
pub fn concerns_learners(name: &str) -> bool {
    ![
        "sh489.kpi.",
        "sh489.partnership.",
        "sh489.designation.",
        "retention.",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

/// Parameters seeded by a later migration than 000004 (a migration never changes once applied).
pub const LATER_SEEDS: &[(&str, &[&str])] = &[
    (
        "2026-11-29-000007_notification_reminders",
        &["notify.reminder_days"],
    ),
    (
        "2026-12-05-000019_designation_parameters",
        &[
            "sh489.partnership.min_partners",
            "sh489.partnership.stable_months",
            "sh489.designation.public_notice_min_days",
        ],
    ),
    (
        "2026-12-05-000024_retention_parameters",
        &[
            "retention.share_accesses_days",
            "retention.delivered_notifications_days",
            "retention.ended_shares_days",
            "retention.deletion_grace_days",
        ],
    ),
    (
        "2026-12-06-000029_decided_corrections_retention",
        &["retention.decided_corrections_days"],
    ),
    (
        "2026-12-05-000021_target_parameters",
        &[
            "sh489.kpi.senior_training_person_times",
            "sh489.kpi.teacher_development_person_times",
            "sh489.kpi.dual_teacher_share_rising",
            "sh489.kpi.warn_from_month",
        ],
    ),
];

pub fn definition(name: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|d| d.name == name)
}

/// Checks a value against its definition; the message names what is wrong.
pub fn check_value(def: &Definition, value: &Value) -> Result<(), String> {
    match def.kind {
        ParamKind::Integer { min, max } => match value.as_i64() {
            Some(v) if (min..=max).contains(&v) => Ok(()),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        },
        ParamKind::Boolean => value
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| "must be true or false".into()),
        ParamKind::Choice(choices) => match value.as_str() {
            Some(v) if choices.contains(&v) => Ok(()),
            _ => Err(format!("must be one of: {}", choices.join(", "))),
        },
        ParamKind::LevelPoints => {
            let Some(map) = value.as_object() else {
                return Err("must be an object of skill level → points".into());
            };
            for level in SkillLevel::ALL {
                match map.get(level.as_str()).and_then(Value::as_u64) {
                    Some(p) if p <= 1000 => {}
                    _ => {
                        return Err(format!(
                            "must give whole points (0–1000) for {}",
                            level.as_str()
                        ))
                    }
                }
            }
            if map.len() != SkillLevel::ALL.len() {
                return Err("must name exactly the five skill levels".into());
            }
            Ok(())
        }
        ParamKind::DayList => match value.as_array() {
            Some(days) if days.iter().all(|d| d.as_u64().is_some_and(|d| d <= 365)) => Ok(()),
            _ => Err("must be a list of whole numbers of days (0–365)".into()),
        },
    }
}

/// One stored value of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParameterValue {
    pub name: String,
    /// Set for a per-occupation override.
    pub occupation_code: Option<String>,
    /// Any JSON value: a number, a list, an object, as the parameter needs.
    pub value: Value,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub source: String,
    pub clause: String,
    pub note: String,
}

impl ParameterValue {
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_until.is_none_or(|u| date <= u)
    }
}

/// The first day after `date` on which the values in force differ from those of `date`: a value
/// taking effect, or one ending (the day after its last). `None`: none is scheduled.
pub fn next_change_after(values: &[ParameterValue], date: NaiveDate) -> Option<NaiveDate> {
    values
        .iter()
        .filter(|v| concerns_learners(&v.name))
        .flat_map(|v| {
            let ends = v.effective_until.and_then(|u| u.succ_opt());
            [Some(v.effective_from), ends]
        })
        .flatten()
        .filter(|d| *d > date)
        .min()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccupationRelation {
    SameCode,
    SameMinorGroup,
}

/// The parameter values in force on one date, as the engine reads them.
/// A parameter the rules read, by its place in [`DEFINITIONS`]. Made with [`param!`], which checks
/// the name when the code is compiled: a misspelt name does not build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param(usize);

impl Param {
    /// The parameter named `name`; in a constant (as [`param!`] makes it), an unknown name fails
    /// the build.
    pub const fn named(name: &str) -> Self {
        let mut i = 0;
        while i < DEFINITIONS.len() {
            if same(DEFINITIONS[i].name.as_bytes(), name.as_bytes()) {
                return Self(i);
            }
            i += 1;
        }
        panic!("no parameter of this name in DEFINITIONS")
    }

    /// The parameter named `name`, looked up when the program runs.
    pub fn find(name: &str) -> Option<Self> {
        DEFINITIONS.iter().position(|d| d.name == name).map(Self)
    }

    pub fn definition(self) -> &'static Definition {
        &DEFINITIONS[self.0]
    }
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The [`Param`] of a name, checked when compiled: `param!("sh.residence_points.cap")`.
#[macro_export]
macro_rules! param {
    ($name:literal) => {
        const { $crate::rules::params::Param::named($name) }
    };
}

/// The parameter values in force on one date, as the engine reads them: resolved once, when the
/// set is built, into a slot per definition, so that a rule's read is an index, not a lookup.
#[derive(Debug, Clone)]
pub struct Parameters {
    /// Identifies the set of values (a digest), so stored answers say what they were computed under.
    pub version: String,
    /// The value of each definition (the order of [`DEFINITIONS`]).
    values: Vec<Value>,
    /// Each whole-number value decoded (0 where the value is not one).
    ints: Vec<u32>,
    /// Per-occupation overrides of whole-number values, by definition: occupation code → value.
    by_occupation: Vec<FastMap<String, u32>>,
    // Read on every condition, so decoded once.
    relation: OccupationRelation,
    work_year_days: u64,
    final_year_months: u32,
    fresh_graduate_twelve_months: bool,
    /// Residence points by skill level (the order of `SkillLevel::ALL`).
    points: [u32; 5],
}

/// Where parameters start to apply when seeded: before any certificate the service accepts.
pub fn seed_effective_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn as_u32(value: Option<&Value>) -> Option<u32> {
    value
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
}

fn level_index(level: SkillLevel) -> usize {
    SkillLevel::ALL
        .iter()
        .position(|l| *l == level)
        .unwrap_or_default()
}

impl Parameters {
    /// The seed values (what the migrations store), for tests and tools.
    pub fn seed() -> Self {
        Self::in_force(&[], seed_effective_from())
    }

    /// The values in force on `date`: for each parameter (and occupation), the latest value whose
    /// period contains the date. A parameter with no value in force keeps its seed value.
    pub fn in_force(values: &[ParameterValue], date: NaiveDate) -> Self {
        let mut chosen: BTreeMap<(String, Option<String>), &ParameterValue> = BTreeMap::new();
        for v in values.iter().filter(|v| v.in_force_on(date)) {
            let key = (v.name.clone(), v.occupation_code.clone());
            match chosen.get(&key) {
                Some(current) if current.effective_from > v.effective_from => {}
                _ => {
                    chosen.insert(key, v);
                }
            }
        }
        let mut digest = Sha256::new();
        let mut slots: Vec<Value> = DEFINITIONS
            .iter()
            .map(|def| serde_json::from_str(def.seed).unwrap_or(Value::Null))
            .collect();
        let mut by_occupation: Vec<FastMap<String, u32>> =
            DEFINITIONS.iter().map(|_| FastMap::default()).collect();
        for ((name, occupation), v) in &chosen {
            // Institutions' parameters are read by no learner rule: they do not make a new
            // version of the learners' answers.
            if concerns_learners(name) {
                digest.update(format!(
                    "{name}|{}|{}|{}\n",
                    occupation.as_deref().unwrap_or(""),
                    v.value,
                    v.effective_from
                ));
            }
            // A stored value of a parameter the rules no longer read counts in the version only.
            let Some(Param(i)) = Param::find(name) else {
                continue;
            };
            match occupation {
                None => slots[i] = v.value.clone(),
                Some(code) => {
                    // An override that is not a whole number leaves the general value in force.
                    if let Some(n) = as_u32(Some(&v.value)) {
                        by_occupation[i].insert(code.clone(), n);
                    }
                }
            }
        }
        let version = format!("p-{}", &hex::encode(digest.finalize())[..12]);
        let mut params = Self {
            version,
            values: slots,
            ints: Vec::new(),
            by_occupation,
            relation: OccupationRelation::SameCode,
            work_year_days: 365,
            final_year_months: 12,
            fresh_graduate_twelve_months: false,
            points: [0; 5],
        };
        params.decode();
        params
    }

    fn decode(&mut self) {
        self.ints = self
            .values
            .iter()
            .map(|v| as_u32(Some(v)).unwrap_or(0))
            .collect();
        self.relation = match self.choice(param!("interpretation.occupation_relation")) {
            "same_minor_group" => OccupationRelation::SameMinorGroup,
            _ => OccupationRelation::SameCode,
        };
        self.work_year_days = u64::from(self.int(param!("interpretation.work_year_days")));
        self.final_year_months = self.int(param!("interpretation.final_year_months"));
        self.fresh_graduate_twelve_months = self
            .choice(param!("interpretation.fresh_graduate_until"))
            == "twelve_months_after_graduation";
        let by_level = &self.values[param!("sh.residence_points.points_by_level").0];
        for level in SkillLevel::ALL.iter().copied() {
            self.points[level_index(level)] = as_u32(by_level.get(level.as_str())).unwrap_or(0);
        }
    }

    pub fn int(&self, param: Param) -> u32 {
        self.ints[param.0]
    }

    /// A year count with its per-occupation override.
    pub fn int_for(&self, param: Param, occupation: &str) -> u32 {
        let overrides = &self.by_occupation[param.0];
        if overrides.is_empty() {
            return self.ints[param.0];
        }
        overrides
            .get(occupation)
            .copied()
            .unwrap_or(self.ints[param.0])
    }

    /// A list of days (e.g. reminder offsets), largest first.
    pub fn days(&self, param: Param) -> Vec<u32> {
        let mut days: Vec<u32> = self.values[param.0]
            .as_array()
            .map(|list| list.iter().filter_map(|d| as_u32(Some(d))).collect())
            .unwrap_or_default();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        days
    }

    pub fn flag(&self, param: Param) -> bool {
        self.values[param.0].as_bool().unwrap_or(false)
    }

    pub fn choice(&self, param: Param) -> &str {
        self.values[param.0].as_str().unwrap_or_default()
    }

    pub fn work_year_days(&self) -> u64 {
        self.work_year_days
    }

    pub fn final_year_months(&self) -> u32 {
        self.final_year_months
    }

    pub fn occupation_relation(&self) -> OccupationRelation {
        self.relation
    }

    pub fn fresh_graduate_until(&self, graduated_on: NaiveDate) -> NaiveDate {
        if self.fresh_graduate_twelve_months {
            dates::add_months(graduated_on, 12)
        } else {
            dates::end_of_year(graduated_on)
        }
    }

    pub fn points_for(&self, level: SkillLevel) -> u32 {
        self.points[level_index(level)]
    }

    /// Overrides one value (tests and what-if tools); a name no definition has changes nothing.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        if let Some(Param(i)) = Param::find(name) {
            self.values[i] = value;
            self.decode();
        }
        self
    }

    pub fn with_occupation(mut self, name: &str, occupation: &str, value: Value) -> Self {
        if let (Some(Param(i)), Some(n)) = (Param::find(name), as_u32(Some(&value))) {
            self.by_occupation[i].insert(occupation.to_owned(), n);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_valid_for_its_definition() {
        for def in DEFINITIONS {
            let value: Value = serde_json::from_str(def.seed).unwrap();
            check_value(def, &value).unwrap_or_else(|e| panic!("{}: {e}", def.name));
        }
        let names: std::collections::HashSet<_> = DEFINITIONS.iter().map(|d| d.name).collect();
        assert_eq!(names.len(), DEFINITIONS.len(), "names are unique");
    }

    #[test]
    fn the_latest_value_in_force_wins_and_future_values_wait() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let value = |v: i64, from: &str, until: Option<&str>| ParameterValue {
            name: "sh489.technician_after_senior_worker.holding_years".into(),
            occupation_code: None,
            value: Value::from(v),
            effective_from: d(from),
            effective_until: until.map(d),
            source: "s".into(),
            clause: "c".into(),
            note: String::new(),
        };
        let values = [
            value(2, "1990-01-01", None),
            value(3, "2027-01-01", None),
            value(1, "2020-01-01", Some("2020-12-31")),
        ];
        let name = param!("sh489.technician_after_senior_worker.holding_years");
        assert_eq!(Parameters::in_force(&values, d("2026-12-31")).int(name), 2);
        assert_eq!(Parameters::in_force(&values, d("2027-01-01")).int(name), 3);
        assert_eq!(Parameters::in_force(&values, d("2020-06-01")).int(name), 1);
        assert_ne!(
            Parameters::in_force(&values, d("2026-12-31")).version,
            Parameters::in_force(&values, d("2027-01-01")).version
        );
        // The next change: a value starting, or the day after one ends.
        assert_eq!(
            next_change_after(&values, d("2019-06-01")),
            Some(d("2020-01-01"))
        );
        assert_eq!(
            next_change_after(&values, d("2020-01-01")),
            Some(d("2021-01-01"))
        );
        assert_eq!(
            next_change_after(&values, d("2020-12-31")),
            Some(d("2021-01-01"))
        );
        assert_eq!(
            next_change_after(&values, d("2021-01-01")),
            Some(d("2027-01-01"))
        );
        assert_eq!(next_change_after(&values, d("2027-01-01")), None);
        // Wherever it says the values change, they do, and not before.
        for day in [
            d("2019-06-01"),
            d("2020-01-01"),
            d("2020-12-31"),
            d("2021-01-01"),
        ] {
            let next = next_change_after(&values, day).unwrap();
            let version = |on| Parameters::in_force(&values, on).version;
            assert_eq!(version(day), version(next.pred_opt().unwrap()));
            assert_ne!(version(day), version(next));
        }
    }

    #[test]
    fn values_are_read_as_their_kinds() {
        let seed = Parameters::seed();
        assert_eq!(
            seed_effective_from(),
            NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
        );
        assert_eq!(seed.days(param!("notify.reminder_days")), vec![30, 7]);
        let days = seed
            .clone()
            .with("notify.reminder_days", serde_json::json!([7, 30, 7, 1]));
        assert_eq!(
            days.days(param!("notify.reminder_days")),
            vec![30, 7, 1],
            "largest first, each once"
        );
        assert_eq!(
            seed.choice(param!("interpretation.designation_overlap")),
            "enrollment_overlaps_designation"
        );
        assert_eq!(seed.occupation_relation(), OccupationRelation::SameCode);
        let minor = seed.with(
            "interpretation.occupation_relation",
            Value::from("same_minor_group"),
        );
        assert_eq!(
            minor.occupation_relation(),
            OccupationRelation::SameMinorGroup
        );
    }

    #[test]
    fn the_latest_start_wins_whatever_the_order_values_come_in() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let value = |v: i64, from: &str| ParameterValue {
            name: "sh.residence_points.cap".into(),
            occupation_code: None,
            value: Value::from(v),
            effective_from: d(from),
            effective_until: None,
            source: "s".into(),
            clause: "c".into(),
            note: String::new(),
        };
        let cap = param!("sh.residence_points.cap");
        for values in [
            [value(150, "2024-01-01"), value(130, "2020-01-01")],
            [value(130, "2020-01-01"), value(150, "2024-01-01")],
        ] {
            assert_eq!(Parameters::in_force(&values, d("2025-01-01")).int(cap), 150);
            assert_eq!(Parameters::in_force(&values, d("2023-01-01")).int(cap), 130);
        }
    }

    #[test]
    fn values_are_checked() {
        let def = definition("interpretation.occupation_relation").unwrap();
        assert!(check_value(def, &Value::from("same_code")).is_ok());
        assert!(check_value(def, &Value::from("any")).is_err());
        let def = definition("sh.residence_points.points_by_level").unwrap();
        assert!(check_value(def, &serde_json::json!({"junior_worker": 1})).is_err());
        let points = |top: u64| {
            serde_json::json!({"junior_worker": 15, "intermediate_worker": 30, "senior_worker": 60,
                "technician": 100, "senior_technician": top})
        };
        assert!(check_value(def, &points(1000)).is_ok());
        assert!(
            check_value(def, &points(1001)).is_err(),
            "points are at most 1000"
        );
        // Whole numbers within the definition's range, its bounds included.
        let def = definition("interpretation.work_year_days").unwrap();
        for (value, ok) in [(359, false), (360, true), (366, true), (367, false)] {
            assert_eq!(check_value(def, &Value::from(value)).is_ok(), ok, "{value}");
        }
        // Days of reminders: whole numbers up to a year.
        let def = definition("notify.reminder_days").unwrap();
        assert!(check_value(def, &serde_json::json!([365, 0])).is_ok());
        assert!(check_value(def, &serde_json::json!([366])).is_err());
        assert!(check_value(def, &serde_json::json!([-1])).is_err());
    }
}

#[cfg(test)]
mod seed_migration {
    use super::{Definition, DEFINITIONS, LATER_SEEDS, SEED_PERIODS};

    /// The seed rows of `definitions` as the migrations insert them.
    fn seed_sql<'a>(definitions: impl Iterator<Item = &'a Definition>) -> String {
        let mut sql = String::from("-- Seed values of every rule parameter (generated from src/rules/params.rs; a test keeps them equal).\n");
        for d in definitions {
            let (from, until) = SEED_PERIODS
                .iter()
                .find(|(name, ..)| *name == d.name)
                .map_or(("1990-01-01", None), |(_, from, until)| (*from, *until));
            let until = until.map_or("NULL".to_owned(), |u| format!("'{u}'"));
            sql.push_str(&format!(
                "INSERT INTO rule_parameters (name, occupation_code, value, effective_from, effective_until, source, clause, note, created_by, created_at) \
                 VALUES ('{}', NULL, '{}', '{from}', {until}, '{}', '{}', '{}', NULL, '2026-11-29 00:00:00');\n",
                d.name, d.seed, d.source, d.clause, d.note
            ));
        }
        sql
    }

    #[test]
    fn migrations_seed_exactly_the_definitions() {
        let later = |name: &str| LATER_SEEDS.iter().any(|(_, names)| names.contains(&name));
        let mut expected = vec![(
            "2026-11-29-000004_rule_parameter_seeds",
            seed_sql(DEFINITIONS.iter().filter(|d| !later(d.name))),
        )];
        for (migration, names) in LATER_SEEDS {
            expected.push((
                migration,
                seed_sql(DEFINITIONS.iter().filter(|d| names.contains(&d.name))),
            ));
        }
        let mut stale = Vec::new();
        for (migration, sql) in &expected {
            for backend in ["sqlite", "postgres"] {
                let path = format!(
                    "{}/migrations/{backend}/{migration}/up.sql",
                    env!("CARGO_MANIFEST_DIR")
                );
                if std::fs::read_to_string(&path).unwrap_or_default() != *sql {
                    if std::env::var("SKILLPATH_WRITE_SEEDS").is_ok() {
                        std::fs::write(&path, sql).unwrap();
                    }
                    stale.push(path);
                }
            }
        }
        assert!(stale.is_empty(), "{stale:?} differ from the parameter definitions; rerun with SKILLPATH_WRITE_SEEDS=1 to rewrite them");
    }
}
