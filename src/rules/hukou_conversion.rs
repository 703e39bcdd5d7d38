//! `sh.hukou_conversion` — 居转户 with 技师 or above.
//!
//! 持有《上海市居住证》人员申办本市常住户口办法 (secondary sources; Unconfirmed details, kept as parameters).
//! Route A: residence permit and Shanghai social insurance for 84 months each, income tax paid in
//! Shanghai, and a 技师 or above certificate in the technician catalog matching the current post.
//! Route B: a 高级技师 certificate matching the current post, with no minimum years.

use super::as_of::AsOf;
use super::dates;
use super::facts::{shown, Facts};
use super::milestone::{Check, Citation, Milestone, Outcome, RuleInfo, Status, Text};
use super::params::Parameters;
use crate::domain::{Hukou, SkillLevel};

pub const ID: &str = "sh.hukou_conversion";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "居转户（技师及以上）",
            "Residence permit to hukou (Technician or above)",
        ),
        citation: Citation::new("持有《上海市居住证》人员申办本市常住户口办法", "居转户"),
    }
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let i = info();
    let mut m = Milestone::new(ID, "", i.title, i.citation);
    m.target = Some("shanghai_hukou".into());
    m.target_label = Some(Text::new("本市常住户口", "Shanghai hukou"));
    if facts.learner.hukou == Some(Hukou::Shanghai) {
        out.push(m.with_status(Status::NotApplicable));
        return;
    }
    // Route B: 高级技师 matching the current post.
    let route_b = facts
        .level_certificates()
        .filter(|c| c.level == SkillLevel::SeniorTechnician)
        .find_map(|c| {
            facts
                .current_post_matching(&c.occupation, as_of, params)
                .map(|p| c.issued_on.max(p.start))
        });
    m.check(Check::pass_if(
        route_b.is_some(),
        Text::new(
            "路径B：高级技师且岗位相符",
            "route B: Senior Technician matching the current post",
        ),
        route_b.map_or("no".into(), |d| crate::compose!("since ", d)),
        "senior_technician",
    ));
    if let Some(since) = route_b {
        m.route = Some("b".into());
        out.push(m.dated(since, as_of));
        return;
    }
    // Route A.
    let cert = facts
        .level_certificates()
        .filter(|c| {
            c.level >= SkillLevel::Technician && facts.occupation(&c.occupation).technician_catalog
        })
        .find(|c| {
            facts
                .current_post_matching(&c.occupation, as_of, params)
                .is_some()
        });
    m.check(Check::pass_if(
        cert.is_some(),
        Text::new(
            "路径A：技师及以上、技师目录内、岗位相符",
            "route A: Technician or above, in the technician catalog, matching the current post",
        ),
        cert.map_or("none".into(), |c| c.label()),
        "technician or above",
    ));
    let learner = &facts.learner;
    let tax = learner.income_tax_in_shanghai;
    m.check(Check::new(
        Text::new("在本市缴纳个人所得税", "Income tax paid in Shanghai"),
        shown(tax),
        "yes",
        match tax {
            None => Outcome::Unknown,
            Some(true) => Outcome::Pass,
            Some(false) => Outcome::Fail,
        },
    ));
    let permit_months = params.int(crate::param!("sh.hukou_conversion.residence_permit_months"));
    let insurance_months = params.int(crate::param!("sh.hukou_conversion.social_insurance_months"));
    let permit = learner
        .residence_permit_since
        .map(|s| dates::add_months(s, permit_months));
    let insurance = learner
        .social_insurance_since
        .map(|s| dates::add_months(s, insurance_months));
    for (condition, months, since, reached) in [
        (
            Text::new("持有居住证的月数", "Months holding the residence permit"),
            permit_months,
            learner.residence_permit_since,
            permit,
        ),
        (
            Text::new(
                "连续缴纳本市社保的月数",
                "Months of Shanghai social insurance",
            ),
            insurance_months,
            learner.social_insurance_since,
            insurance,
        ),
    ] {
        m.check(Check::new(
            condition,
            since.map_or("not recorded".into(), |s| crate::compose!("since ", s)),
            reached.map_or_else(
                || crate::compose!(months, " months"),
                |r| crate::compose!(months, " months: on or before ", r),
            ),
            match reached {
                None => Outcome::Unknown,
                Some(r) if as_of.reached(r) => Outcome::Pass,
                Some(_) => Outcome::Fail,
            },
        ));
    }
    let Some(cert) = cert else {
        out.push(m.with_status(Status::NotMet).missing(Text::new(
            "技师目录内职业的技师及以上证书，且在对应岗位工作",
            "a Technician (or higher) certificate in a technician-catalog occupation, \
             and a job in that occupation",
        )));
        return;
    };
    let (Some(permit), Some(insurance), Some(tax)) = (permit, insurance, tax) else {
        let mut m = m.with_status(Status::NeedsInfo);
        if learner.residence_permit_since.is_none() {
            m = m.missing(Text::new(
                "居住证办理日期",
                "when you got your residence permit",
            ));
        }
        if learner.social_insurance_since.is_none() {
            m = m.missing(Text::new(
                "本市社保连续缴纳起始日期",
                "since when you pay Shanghai social insurance",
            ));
        }
        if tax.is_none() {
            m = m.missing(Text::new(
                "是否在本市缴纳个人所得税",
                "whether you pay income tax in Shanghai",
            ));
        }
        out.push(m);
        return;
    };
    if !tax {
        out.push(m.with_status(Status::NotMet).missing(Text::new(
            "在本市缴纳个人所得税",
            "income tax paid in Shanghai",
        )));
        return;
    }
    m.route = Some("a".into());
    let since = permit.max(insurance).max(cert.issued_on);
    out.push(m.dated(since, as_of));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use chrono::NaiveDate;

    /// The rule's milestones as a list (the engine appends them to a shared one).
    fn evaluate(facts: &Facts, params: &Parameters, as_of: NaiveDate) -> Vec<Milestone> {
        let mut out = Vec::new();
        super::evaluate(facts, params, &crate::rules::AsOf::new(as_of), &mut out);
        out
    }

    fn technician() -> Facts {
        let mut facts = Facts {
            certificates: vec![verified(
                1,
                SkillLevel::Technician,
                ELECTRICIAN,
                "2022-01-01",
            )],
            ..Facts::default()
        };
        catalog(&mut facts);
        facts.employments.push(job(ELECTRICIAN, "2018-03-01", None));
        facts.learner.hukou = Some(Hukou::Other);
        facts.learner.residence_permit_since = Some(d("2019-03-15"));
        facts.learner.social_insurance_since = Some(d("2018-04-01"));
        facts.learner.income_tax_in_shanghai = Some(true);
        facts
    }

    #[test]
    fn route_a_opens_at_the_later_of_the_two_84_month_dates() {
        let m = &evaluate(&technician(), &Parameters::seed(), d("2026-01-01"))[0];
        assert_eq!(
            (m.status, m.eligible_from, m.route.as_deref()),
            (Status::Upcoming, Some(d("2026-03-15")), Some("a"))
        );
        assert_eq!(
            evaluate(&technician(), &Parameters::seed(), d("2026-03-15"))[0].status,
            Status::Met
        );
    }

    #[test]
    fn the_trace_tells_which_of_the_month_counts_is_reached() {
        use crate::rules::milestone::Outcome;
        let m = &evaluate(&technician(), &Parameters::seed(), d("2026-01-01"))[0];
        let outcome = |condition: &str| {
            m.trace
                .iter()
                .find(|c| c.condition.en == condition)
                .map(|c| c.outcome)
        };
        // The permit's 84 months end 2026-03-15, the insurance's 2025-04-01.
        assert_eq!(
            outcome("Months holding the residence permit"),
            Some(Outcome::Fail)
        );
        assert_eq!(
            outcome("Months of Shanghai social insurance"),
            Some(Outcome::Pass)
        );
    }

    #[test]
    fn route_a_needs_technician_or_above_in_the_technician_catalog() {
        let mut senior_worker = technician();
        senior_worker.certificates[0].level = SkillLevel::SeniorWorker;
        let mut outside_the_catalog = technician();
        outside_the_catalog.certificates[0].occupation = MECHANIC.into();
        outside_the_catalog.employments[0].occupation = MECHANIC.into();
        for facts in [senior_worker, outside_the_catalog] {
            let m = &evaluate(&facts, &Parameters::seed(), d("2026-06-01"))[0];
            assert_eq!((m.status, m.route.as_deref()), (Status::NotMet, None));
        }
    }

    #[test]
    fn missing_residence_facts_need_info() {
        let mut facts = technician();
        facts.learner.residence_permit_since = None;
        let m = &evaluate(&facts, &Parameters::seed(), d("2026-01-01"))[0];
        assert_eq!(m.status, Status::NeedsInfo);
        assert_eq!(m.missing.len(), 1);
    }

    #[test]
    fn route_b_needs_no_years() {
        let mut facts = technician();
        facts.certificates.push(verified(
            2,
            SkillLevel::SeniorTechnician,
            ELECTRICIAN,
            "2025-06-01",
        ));
        facts.learner.residence_permit_since = None;
        let m = &evaluate(&facts, &Parameters::seed(), d("2025-07-01"))[0];
        assert_eq!(
            (m.status, m.route.as_deref(), m.eligible_from),
            (Status::Met, Some("b"), Some(d("2025-06-01")))
        );
    }
}
