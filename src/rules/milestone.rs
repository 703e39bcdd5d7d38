//! What the engine answers: milestones with status, dates, citation, what is missing, and the
//! trace of every condition (RULES.md, "Milestone statuses").
//!
//! Texts borrow their many fixed strings instead of copying them: the engine builds thousands of
//! them per second and allocation was most of its time.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Learner-facing text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Text {
    #[serde(rename = "zh-CN")]
    #[schema(value_type = String)]
    pub zh: Cow<'static, str>,
    #[schema(value_type = String)]
    pub en: Cow<'static, str>,
}

impl Text {
    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    /// The policy document (e.g. 沪人社职〔2021〕489号).
    #[schema(value_type = String)]
    pub source: Cow<'static, str>,
    /// The clause (e.g. 五(七)).
    #[schema(value_type = String)]
    pub clause: Cow<'static, str>,
}

impl Citation {
    pub const fn new(source: &'static str, clause: &'static str) -> Self {
        Self {
            source: Cow::Borrowed(source),
            clause: Cow::Borrowed(clause),
        }
    }

    /// 沪人社职〔2021〕489号, the primary source.
    pub const fn sh489(clause: &'static str) -> Self {
        Self::new(
            "沪人社职〔2021〕489号 关于推动本市新型技师学院建设加快高技能人才培养的实施意见",
            clause,
        )
    }
}

crate::string_enum! {
    /// RULES.md, "Milestone statuses".
    Status {
        /// The learner already holds what the milestone leads to.
        Achieved => "achieved",
        /// Eligible now; `eligible_from` says since when.
        Met => "met",
        /// Will be met on `eligible_from` if nothing changes (only time is missing).
        Upcoming => "upcoming",
        /// A condition other than time fails; `missing` says which.
        NotMet => "not_met",
        /// A fact the rule needs is not recorded; `missing` names it.
        NeedsInfo => "needs_info",
        /// Was met, and the window closed.
        Lapsed => "lapsed",
        /// The rule does not concern this learner.
        NotApplicable => "not_applicable",
    }
}

crate::string_enum! {
    /// How one condition came out.
    Outcome {
        Pass => "pass",
        Fail => "fail",
        Unknown => "unknown",
    }
}

/// One condition checked: the fact seen, what was expected, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    pub condition: Text,
    #[schema(value_type = String)]
    pub observed: Cow<'static, str>,
    #[schema(value_type = String)]
    pub expected: Cow<'static, str>,
    pub outcome: Outcome,
    /// For rules with several routes: the route the condition belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub route: Option<Cow<'static, str>>,
}

impl Check {
    pub fn new(
        condition: Text,
        observed: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
        outcome: Outcome,
    ) -> Self {
        Self {
            condition,
            observed: observed.into(),
            expected: expected.into(),
            outcome,
            route: None,
        }
    }

    pub fn pass_if(
        ok: bool,
        condition: Text,
        observed: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(
            condition,
            observed,
            expected,
            if ok { Outcome::Pass } else { Outcome::Fail },
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Milestone {
    #[schema(value_type = String)]
    pub rule_id: Cow<'static, str>,
    /// Stable identity of this milestone for this learner (rule and subject, e.g. a certificate).
    pub key: String,
    pub title: Text,
    pub status: Status,
    /// Since when (met) or from when (upcoming) the learner is eligible.
    pub eligible_from: Option<NaiveDate>,
    /// When a met milestone's window closes (e.g. the end of the fresh-graduate year).
    pub open_until: Option<NaiveDate>,
    /// What the milestone leads to: a skill level, a title, `points`, a route.
    #[schema(value_type = Option<String>)]
    pub target: Option<Cow<'static, str>>,
    pub target_label: Option<Text>,
    /// The route that is met (or nearest), for rules with several.
    #[schema(value_type = Option<String>)]
    pub route: Option<Cow<'static, str>>,
    pub citation: Citation,
    #[schema(value_type = String)]
    pub parameters_version: std::sync::Arc<str>,
    /// What is missing, in words a learner understands.
    pub missing: Vec<Text>,
    pub trace: Vec<Check>,
    /// The residence-points score, for `sh.residence_points_skill`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
}

impl Milestone {
    pub fn new(rule_id: &'static str, key_suffix: &str, title: Text, citation: Citation) -> Self {
        let key = if key_suffix.is_empty() {
            rule_id.to_owned()
        } else {
            crate::compose!(rule_id, "/", key_suffix)
        };
        Self {
            rule_id: rule_id.into(),
            key,
            title,
            status: Status::NotApplicable,
            eligible_from: None,
            open_until: None,
            target: None,
            target_label: None,
            route: None,
            citation,
            parameters_version: std::sync::Arc::from(""),
            missing: Vec::new(),
            trace: Vec::with_capacity(8),
            points: None,
        }
    }

    pub fn check(&mut self, check: Check) -> Outcome {
        let outcome = check.outcome;
        self.trace.push(check);
        outcome
    }

    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// Met on `from` if that is on or before `as_of`, else upcoming on `from`.
    pub fn dated(mut self, from: NaiveDate, as_of: &super::AsOf) -> Self {
        self.eligible_from = Some(from);
        self.status = if as_of.reached(from) {
            Status::Met
        } else {
            Status::Upcoming
        };
        self
    }

    pub fn missing(mut self, text: Text) -> Self {
        self.missing.push(text);
        self
    }
}

/// What the API shows of a rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleInfo {
    pub id: &'static str,
    pub title: Text,
    pub citation: Citation,
}
