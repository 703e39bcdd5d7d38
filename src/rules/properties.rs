//! Properties that hold for any learner, checked over many generated histories.

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::evaluate;
use super::facts::{AwardFact, CertificateFact, Facts};
use super::milestone::Status;
use super::params::Parameters;
use super::testing::*;
use crate::domain::{
    AwardKind, CertificateId, CertificateKind, CertificateStatus, ClassType, EducationLevel,
    EnrollmentId, EnrollmentStatus, Hukou, InstitutionKind, LearnerKind, SkillLevel,
};

const OCCUPATIONS: [&str; 3] = [ELECTRICIAN, MECHANIC, ROBOTICS];

fn day(rng: &mut StdRng, from_year: i32, to_year: i32) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap();
    let span = (NaiveDate::from_ymd_opt(to_year, 12, 31).unwrap() - start).num_days() as u64;
    start + Days::new(rng.gen_range(0..=span))
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

fn random_certificate(rng: &mut StdRng, id: i64) -> CertificateFact {
    CertificateFact {
        id: Some(CertificateId(id)),
        kind: pick(
            rng,
            &[
                CertificateKind::SkillLevel,
                CertificateKind::VocationalQualification,
                CertificateKind::PreparatoryTechnician,
            ],
        ),
        level: pick(rng, SkillLevel::ALL),
        occupation: pick(rng, &OCCUPATIONS).into(),
        issued_on: day(rng, 2016, 2027),
        status: pick(
            rng,
            &[
                CertificateStatus::Verified,
                CertificateStatus::Verified,
                CertificateStatus::Pending,
                CertificateStatus::Revoked,
            ],
        ),
    }
}

/// A learner with a random but plausible history.
fn random_facts(rng: &mut StdRng) -> Facts {
    let mut facts = Facts::default();
    catalog(&mut facts);
    facts.learner.kind = pick(rng, LearnerKind::ALL);
    facts.learner.hukou = pick(rng, &[None, Some(Hukou::Shanghai), Some(Hukou::Other)]);
    facts.learner.residence_permit_since = rng.gen_bool(0.6).then(|| day(rng, 2012, 2024));
    facts.learner.social_insurance_since = rng.gen_bool(0.6).then(|| day(rng, 2012, 2024));
    facts.learner.income_tax_in_shanghai = pick(rng, &[None, Some(true), Some(false)]);
    facts.learner.insurance_base_at_least_average_6_of_12 =
        pick(rng, &[None, Some(true), Some(false)]);
    facts.learner.education_level = pick(
        rng,
        &[
            None,
            Some(EducationLevel::Secondary),
            Some(EducationLevel::Associate),
        ],
    );
    facts.learner.education_occupations = vec![pick(rng, &OCCUPATIONS).into()];
    for i in 0..rng.gen_range(0..4) {
        facts.certificates.push(random_certificate(rng, i + 1));
    }
    for i in 0..rng.gen_range(0..3) {
        let kind = pick(rng, InstitutionKind::ALL);
        let designated = rng
            .gen_bool(0.7)
            .then(|| day(rng, 2018, 2025).format("%Y-%m-%d").to_string());
        let start = day(rng, 2016, 2025);
        let end = start + Days::new(rng.gen_range(365..1400));
        let mut e = enrollment(
            institution(kind, designated.as_deref()),
            &start.to_string(),
            &end.to_string(),
            pick(rng, EnrollmentStatus::ALL),
        );
        e.id = EnrollmentId(i + 1);
        e.institution.assessed = rng.gen_bool(0.5);
        e.program_occupation = pick(rng, &OCCUPATIONS).into();
        e.full_time = rng.gen_bool(0.8);
        e.class_type = pick(rng, ClassType::ALL);
        facts.enrollments.push(e);
    }
    for _ in 0..rng.gen_range(0..4) {
        let start = day(rng, 2014, 2026);
        let end = rng
            .gen_bool(0.5)
            .then(|| (start + Days::new(rng.gen_range(30..2000))).to_string());
        let mut j = job(pick(rng, &OCCUPATIONS), &start.to_string(), end.as_deref());
        j.frontline = rng.gen_bool(0.7);
        j.dedicated_trainer = rng.gen_bool(0.1);
        j.in_shanghai = rng.gen_bool(0.8);
        facts.employments.push(j);
    }
    if rng.gen_bool(0.2) {
        facts.awards.push(AwardFact {
            kind: pick(rng, AwardKind::ALL),
            awarded_on: day(rng, 2016, 2026),
        });
    }
    facts
}

#[test]
fn moving_as_of_forward_never_turns_met_back_into_upcoming() {
    let mut rng = StdRng::seed_from_u64(7);
    let params = Parameters::seed();
    let mut compared = 0;
    for case in 0..400 {
        let facts = random_facts(&mut rng);
        let earlier = day(&mut rng, 2018, 2028);
        let later = earlier + Days::new(rng.gen_range(1..2000));
        let before = evaluate(&facts, &params, earlier);
        let after = evaluate(&facts, &params, later);
        for m in before.iter().filter(|m| m.status == Status::Met) {
            if let Some(n) = after.iter().find(|n| n.key == m.key) {
                compared += 1;
                assert_ne!(
                    n.status,
                    Status::Upcoming,
                    "case {case}: {} met on {earlier} but upcoming on {later}\n{facts:#?}",
                    m.key
                );
            }
        }
    }
    assert!(compared > 100, "only {compared} met milestones compared");
}

#[test]
fn adding_a_verified_certificate_never_removes_an_achievement() {
    let mut rng = StdRng::seed_from_u64(11);
    let params = Parameters::seed();
    let mut compared = 0;
    for case in 0..400 {
        let facts = random_facts(&mut rng);
        let as_of = day(&mut rng, 2020, 2030);
        let before = evaluate(&facts, &params, as_of);
        let mut more = facts.clone();
        let mut extra = random_certificate(&mut rng, 99);
        extra.status = CertificateStatus::Verified;
        more.certificates.push(extra);
        let after = evaluate(&more, &params, as_of);
        for m in before.iter().filter(|m| m.status == Status::Achieved) {
            compared += 1;
            let still = after
                .iter()
                .any(|n| n.rule_id == m.rule_id && n.status == Status::Achieved);
            assert!(
                still,
                "case {case}: adding a certificate removed {} ({})\n{facts:#?}",
                m.key, m.rule_id
            );
        }
    }
    assert!(compared > 20, "only {compared} achievements compared");
}

#[test]
fn every_citation_names_a_clause_of_the_specification() {
    let spec = include_str!("../../docs/RULES.md");
    let mut rng = StdRng::seed_from_u64(13);
    let params = Parameters::seed();
    let mut seen = std::collections::BTreeSet::new();
    let mut rules_answering = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let facts = random_facts(&mut rng);
        for m in evaluate(&facts, &params, day(&mut rng, 2018, 2030)) {
            rules_answering.insert(m.rule_id.to_string());
            seen.insert((m.rule_id.to_string(), m.citation.clause.to_string()));
        }
    }
    // The evaluated citations are checked, not only the catalog's: every rule answered.
    assert_eq!(rules_answering.len(), super::catalog().len());
    for info in super::catalog() {
        seen.insert((info.id.to_owned(), info.citation.clause.to_string()));
    }
    for def in super::params::DEFINITIONS
        .iter()
        .filter(|d| d.source != super::params::SERVICE_SETTING)
    {
        seen.insert((def.name.to_owned(), def.clause.to_owned()));
    }
    for (rule, clause) in &seen {
        assert!(
            spec.contains(clause.as_str()),
            "{rule} cites '{clause}', which RULES.md does not name"
        );
    }
    assert!(seen.len() > 9);
}

/// A stored evaluation is exact before its horizon: on every day from the evaluation date up to
/// the day before the horizon, evaluating afresh gives the same milestones, byte for byte as
/// serialized. Each history is checked on the 40 days that follow, on 20 days drawn from the
/// rest of its range, and on the last day before the horizon (where an off-by-one would show).
#[test]
fn an_evaluation_is_the_same_on_every_day_before_its_horizon() {
    use super::{evaluate_at, AsOf};
    let params = Parameters::seed();
    let mut rng = StdRng::seed_from_u64(0x5eed_ab1e);
    let serialized = |facts: &Facts, on: NaiveDate| {
        serde_json::to_string(&evaluate(facts, &params, on)).unwrap()
    };
    let mut lasting = 0;
    let mut with_horizon = 0;
    const HISTORIES: usize = 1500;
    for _ in 0..HISTORIES {
        let facts = random_facts(&mut rng);
        let as_of = day(&mut rng, 2016, 2030);
        let clock = AsOf::new(as_of);
        let first = serde_json::to_string(&evaluate_at(&facts, &params, &clock)).unwrap();
        assert_eq!(first, serialized(&facts, as_of), "evaluate_at is evaluate");
        if clock.horizon().is_some() {
            with_horizon += 1;
        }
        // Without a horizon the answer never changes: look ten years on.
        let last = clock
            .horizon()
            .map_or(as_of + Days::new(3650), |h| h - Days::new(1));
        assert!(last >= as_of, "a horizon after the evaluation date");
        let span = (last - as_of).num_days() as u64;
        if span > 1 {
            lasting += 1;
        }
        let mut days: Vec<u64> = (1..=span.min(40)).collect();
        if span > 40 {
            days.extend((0..20).map(|_| rng.gen_range(41..=span)));
        }
        days.push(span);
        for offset in days {
            let on = as_of + Days::new(offset);
            assert_eq!(
                serialized(&facts, on),
                first,
                "changed on {on}, before the horizon {:?} of {as_of}: {facts:?}",
                clock.horizon()
            );
        }
    }
    // The horizon is of use: most answers last longer than a day (those with a job running on
    // today change daily: the trace counts its days).
    assert!(
        lasting * 3 > HISTORIES,
        "only {lasting} of {HISTORIES} answers last more than a day"
    );
    // And most have a horizon: what is checked above is mostly a finite range, not ten years of
    // an answer that never changes.
    assert!(
        with_horizon * 2 > HISTORIES,
        "only {with_horizon} of {HISTORIES} answers have a horizon"
    );
}
