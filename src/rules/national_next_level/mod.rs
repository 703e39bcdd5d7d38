//! `national.next_level` — the national application conditions for the next level.
//!
//! 国家职业技能标准编制技术规程（2018年版）, 申报条件: the template most national occupational
//! standards follow. A standard may set other year counts, so every count is a parameter that
//! can be overridden per occupation. One milestone per occupation in which the learner holds a
//! verified certificate (for the next level up), and one for 初级工 in each occupation of a
//! current job in which the learner holds none. Met when any route is met; the trace shows all.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::as_of::AsOf;
use super::dates;
use super::facts::{level_text, CertificateFact, Facts};
use super::milestone::{Check, Citation, Milestone, Outcome, RuleInfo, Status, Text};
use super::params::{Param, Parameters};
use crate::domain::{
    CertificateKind, CertificateStatus, ClassType, EducationLevel, InstitutionKind, SkillLevel,
};

pub const ID: &str = "national.next_level";

pub fn info() -> RuleInfo {
    RuleInfo {
        id: ID,
        title: Text::new(
            "申报上一等级的国家条件",
            "National conditions to apply for the next level",
        ),
        citation: Citation::new("国家职业技能标准编制技术规程（2018年版）", "申报条件"),
    }
}

/// How one route came out.
enum Route {
    Met(NaiveDate),
    Upcoming(NaiveDate),
    NotMet(Text),
}

struct Ctx<'a> {
    facts: &'a Facts,
    params: &'a Parameters,
    as_of: &'a AsOf,
    occupation: &'a str,
    /// The related employment spans, gathered once for every route.
    spans: Vec<dates::Span>,
    trace: Vec<Check>,
}

impl<'a> Ctx<'a> {
    /// Records a check of `route`.
    fn push(&mut self, route: &'static str, mut check: Check) {
        check.route = Some(route.into());
        self.trace.push(check);
    }

    /// A year count, with its per-occupation override.
    fn years(&self, param: Param) -> u32 {
        self.params.int_for(param, self.occupation)
    }

    /// Related work of `years` years after `after` (or in total): met on, projected, or not.
    fn work(&mut self, route: &'static str, years: u32, after: Option<&CertificateFact>) -> Route {
        let target_days = u64::from(years) * self.params.work_year_days();
        let spans = &self.spans;
        let progress =
            dates::accumulate_work(spans, after.map(|c| c.issued_on), target_days, self.as_of);
        let condition = match after {
            Some(_) => Text::new(
                "取得证书后累计从事相关职业工作",
                "related work after the certificate",
            ),
            None => Text::new("累计从事相关职业工作", "related work in total"),
        };
        let observed = crate::compose!(progress.days, " days counted");
        let expected = crate::compose!(years, " years (", target_days, " days)");
        let outcome = match progress.reached_on {
            Some(day) if self.as_of.reached(day) => {
                self.push(
                    route,
                    Check::new(condition, observed, expected, Outcome::Pass),
                );
                return Route::Met(day);
            }
            Some(day) => {
                self.push(
                    route,
                    Check::new(
                        condition,
                        crate::compose!(observed, "; reached on ", day, " if the job continues"),
                        expected,
                        Outcome::Fail,
                    ),
                );
                return Route::Upcoming(day);
            }
            None => Outcome::Fail,
        };
        self.push(
            route,
            Check::new(condition.clone(), observed, expected, outcome),
        );
        let missing_days = target_days.saturating_sub(progress.days);
        Route::NotMet(Text::new(
            crate::compose!(
                "还需",
                condition.zh,
                "约",
                missing_days,
                "天（共需",
                years,
                "年）"
            ),
            crate::compose!(
                "about ",
                missing_days,
                " more days of ",
                condition.en,
                " (",
                years,
                " years in all)"
            ),
        ))
    }

    /// The earliest verified certificate of `level` in the occupation.
    fn certificate(
        &mut self,
        route: &'static str,
        level: SkillLevel,
    ) -> Option<&'a CertificateFact> {
        let facts: &'a Facts = self.facts;
        let found = facts
            .level_certificates()
            .filter(|c| c.occupation == self.occupation && c.level == level)
            .min_by_key(|c| c.issued_on);
        self.push(
            route,
            Check::pass_if(
                found.is_some(),
                Text::new(
                    "持有本职业该等级证书",
                    "holds a certificate of this level in the occupation",
                ),
                found.map_or_else(|| "none verified".to_owned(), CertificateFact::label),
                level.as_str(),
            ),
        );
        found
    }

    /// Graduate (or, with `final_year`, final-year student) of a related program at an
    /// institution of one of `kinds` (those in `assessed_kinds` only when marked assessed).
    fn schooling(
        &mut self,
        route: &'static str,
        kinds: &[InstitutionKind],
        assessed_kinds: &[InstitutionKind],
        final_year: bool,
        wanted: &'static str,
    ) -> Route {
        let mut best: Option<Route> = None;
        for e in &self.facts.enrollments {
            let kind_ok = kinds.contains(&e.institution.kind)
                || (assessed_kinds.contains(&e.institution.kind) && e.institution.assessed);
            if !kind_ok || !e.in_program_occupations(self.occupation) {
                continue;
            }
            let candidate = if e.graduated_by(self.as_of) {
                Route::Met(e.end)
            } else if final_year && e.status == crate::domain::EnrollmentStatus::Enrolled {
                let from = dates::sub_months(e.end, self.params.final_year_months()).max(e.start);
                if self.as_of.reached(from) {
                    Route::Met(from)
                } else {
                    Route::Upcoming(from)
                }
            } else if e.status == crate::domain::EnrollmentStatus::Enrolled {
                Route::Upcoming(e.end)
            } else {
                continue;
            };
            best = Some(earliest(best, candidate));
        }
        let (outcome, observed) = match &best {
            Some(Route::Met(day)) => (Outcome::Pass, crate::compose!("since ", *day)),
            Some(Route::Upcoming(day)) => (Outcome::Fail, crate::compose!("from ", *day)),
            _ => (Outcome::Fail, "no such enrollment".to_owned()),
        };
        let who = if final_year {
            "graduate or final-year student"
        } else {
            "graduate"
        };
        self.push(
            route,
            Check::new(
                Text::new(
                    "相关专业的院校毕业生（或应届在校生）",
                    crate::compose!(who, " of a related program"),
                ),
                observed,
                wanted,
                outcome,
            ),
        );
        best.unwrap_or_else(|| {
            Route::NotMet(Text::new(
                crate::compose!("相关专业毕业（", wanted, "）"),
                crate::compose!("graduation from a related program at: ", wanted),
            ))
        })
    }
}

/// The better of two outcomes: met beats upcoming beats not met; earlier beats later.
fn earliest(a: Option<Route>, b: Route) -> Route {
    match (a, b) {
        (None, b) => b,
        (Some(Route::Met(x)), Route::Met(y)) => Route::Met(x.min(y)),
        (Some(Route::Met(x)), _) => Route::Met(x),
        (Some(_), Route::Met(y)) => Route::Met(y),
        (Some(Route::Upcoming(x)), Route::Upcoming(y)) => Route::Upcoming(x.min(y)),
        (Some(Route::Upcoming(x)), _) => Route::Upcoming(x),
        (Some(_), b @ Route::Upcoming(_)) => b,
        (Some(a), Route::NotMet(_)) => a,
    }
}

/// Both conditions: met when both are, on the later date; upcoming when neither fails.
fn both(a: Route, b: Route) -> Route {
    match (a, b) {
        (Route::NotMet(t), _) | (_, Route::NotMet(t)) => Route::NotMet(t),
        (Route::Met(x), Route::Met(y)) => Route::Met(x.max(y)),
        (Route::Met(x) | Route::Upcoming(x), Route::Met(y) | Route::Upcoming(y)) => {
            Route::Upcoming(x.max(y))
        }
    }
}

fn need_certificate(level: SkillLevel) -> Route {
    Route::NotMet(Text::new(
        crate::compose!("本职业", level.name_zh(), "证书（经核验）"),
        crate::compose!(
            "a verified ",
            level.name_en(),
            " certificate in this occupation"
        ),
    ))
}

/// The routes to `target` for someone holding `held` in the occupation.
fn routes(ctx: &mut Ctx<'_>, target: SkillLevel) -> Vec<(&'static str, Route)> {
    use InstitutionKind::*;
    use SkillLevel::*;
    match target {
        JuniorWorker => {
            let a = ctx.work(
                "a",
                ctx.years(crate::param!(
                    "national.next_level.junior_worker.total_years"
                )),
                None,
            );
            let mut b = None;
            for e in &ctx.facts.enrollments {
                if e.class_type == ClassType::Apprenticeship
                    && e.in_program_occupations(ctx.occupation)
                    && e.graduated_by(ctx.as_of)
                {
                    b = Some(earliest(b, Route::Met(e.end)));
                }
            }
            ctx.push(
                "b",
                Check::pass_if(
                    b.is_some(),
                    Text::new("完成相关学徒培训", "completed a related apprenticeship"),
                    if b.is_some() { "completed" } else { "none" },
                    "apprenticeship enrollment graduated",
                ),
            );
            let b = b.unwrap_or_else(|| {
                Route::NotMet(Text::new(
                    "完成相关职业的学徒培训",
                    "a completed apprenticeship in this occupation",
                ))
            });
            vec![("a", a), ("b", b)]
        }
        IntermediateWorker => {
            let a = match ctx.certificate("a", JuniorWorker) {
                Some(c) => ctx.work(
                    "a",
                    ctx.years(crate::param!(
                        "national.next_level.intermediate_worker.years_after_junior_worker"
                    )),
                    Some(c),
                ),
                None => need_certificate(JuniorWorker),
            };
            let b = ctx.work(
                "b",
                ctx.years(crate::param!(
                    "national.next_level.intermediate_worker.total_years"
                )),
                None,
            );
            let c = ctx.schooling(
                "c",
                &[TechnicalSchool],
                &[SecondaryVocational],
                true,
                "technical_school | secondary_vocational (assessed)",
            );
            vec![("a", a), ("b", b), ("c", c)]
        }
        SeniorWorker => {
            let cert = ctx.certificate("a", IntermediateWorker);
            let a = match &cert {
                Some(c) => ctx.work(
                    "a",
                    ctx.years(crate::param!(
                        "national.next_level.senior_worker.years_after_intermediate_worker"
                    )),
                    Some(c),
                ),
                None => need_certificate(IntermediateWorker),
            };
            let b = match &cert {
                Some(c) => both(
                    Route::Met(c.issued_on),
                    ctx.schooling(
                        "b",
                        &[SeniorTechnicalSchool, TechnicianCollege],
                        &[HigherVocational],
                        true,
                        "senior_technical_school | technician_college | higher_vocational (assessed)",
                    ),
                ),
                None => need_certificate(IntermediateWorker),
            };
            let learner = &ctx.facts.learner;
            let degree = learner
                .education_level
                .is_some_and(|l| l >= EducationLevel::Associate)
                && learner
                    .education_occupations
                    .iter()
                    .any(|o| ctx.facts.related(o, ctx.occupation, ctx.params));
            ctx.push(
                "c",
                Check::new(
                    Text::new(
                        "大专及以上学历且专业相关",
                        "大专 (associate) or higher in a related major",
                    ),
                    learner
                        .education_level
                        .map_or("not recorded".into(), |l| l.as_str().to_owned()),
                    "associate or higher, major related",
                    match learner.education_level {
                        None => Outcome::Unknown,
                        Some(_) if degree => Outcome::Pass,
                        Some(_) => Outcome::Fail,
                    },
                ),
            );
            let c = match (&cert, degree) {
                (Some(c), true) => ctx.work(
                    "c",
                    ctx.years(crate::param!(
                        "national.next_level.senior_worker.years_after_intermediate_with_degree"
                    )),
                    Some(c),
                ),
                (None, _) => need_certificate(IntermediateWorker),
                (_, false) => Route::NotMet(Text::new(
                    "相关专业大专及以上学历",
                    "an associate degree or higher in a related major",
                )),
            };
            vec![("a", a), ("b", b), ("c", c)]
        }
        Technician => {
            let cert = ctx.certificate("a", SeniorWorker);
            let a = match &cert {
                Some(c) => ctx.work(
                    "a",
                    ctx.years(crate::param!(
                        "national.next_level.technician.years_after_senior_worker"
                    )),
                    Some(c),
                ),
                None => need_certificate(SeniorWorker),
            };
            let b = match &cert {
                Some(_) => {
                    let school = ctx.schooling(
                        "b",
                        &[SeniorTechnicalSchool, TechnicianCollege],
                        &[],
                        false,
                        "senior_technical_school | technician_college",
                    );
                    let work = ctx.work(
                        "b",
                        ctx.years(crate::param!(
                            "national.next_level.technician.total_years_for_graduates"
                        )),
                        None,
                    );
                    both(school, work)
                }
                None => need_certificate(SeniorWorker),
            };
            let preparatory = ctx
                .facts
                .certificates
                .iter()
                .filter(|c| {
                    c.kind == CertificateKind::PreparatoryTechnician
                        && c.status == CertificateStatus::Verified
                })
                .find(|c| ctx.facts.related(&c.occupation, ctx.occupation, ctx.params))
                .cloned();
            ctx.push(
                "c",
                Check::pass_if(
                    preparatory.is_some(),
                    Text::new(
                        "持有预备技师证书",
                        "holds a preparatory technician (预备技师) certificate",
                    ),
                    preparatory
                        .as_ref()
                        .map_or_else(|| "none verified".into(), CertificateFact::label),
                    "preparatory_technician, verified",
                ),
            );
            let c = match preparatory {
                Some(p) => {
                    let school =
                        ctx.schooling("c", &[TechnicianCollege], &[], false, "technician_college");
                    let work = ctx.work(
                        "c",
                        ctx.years(crate::param!(
                            "national.next_level.technician.total_years_with_preparatory"
                        )),
                        None,
                    );
                    both(Route::Met(p.issued_on), both(school, work))
                }
                None => Route::NotMet(Text::new(
                    "预备技师证书与技师学院毕业",
                    "a preparatory technician certificate and graduation from a technician college",
                )),
            };
            vec![("a", a), ("b", b), ("c", c)]
        }
        SeniorTechnician => {
            let a = match ctx.certificate("a", Technician) {
                Some(c) => ctx.work(
                    "a",
                    ctx.years(crate::param!(
                        "national.next_level.senior_technician.years_after_technician"
                    )),
                    Some(c),
                ),
                None => need_certificate(Technician),
            };
            vec![("a", a)]
        }
    }
}

fn milestone_for(
    facts: &Facts,
    params: &Parameters,
    as_of: &AsOf,
    occupation: &str,
    target: SkillLevel,
) -> Milestone {
    let i = info();
    let mut m = Milestone::new(
        ID,
        &crate::compose!(occupation, "/", target.as_str()),
        i.title,
        i.citation,
    );
    m.target = Some(target.as_str().into());
    let label = facts.occupation_label(occupation);
    m.target_label = Some(Text::new(
        crate::compose!(label, " ", target.name_zh()),
        crate::compose!(target.name_en(), " in ", label),
    ));
    let mut ctx = Ctx {
        facts,
        params,
        as_of,
        occupation,
        spans: facts.related_spans(occupation, params),
        trace: Vec::with_capacity(10),
    };
    let results = routes(&mut ctx, target);
    m.trace = ctx.trace;
    let mut best: Option<(&str, Route)> = None;
    let mut missing = Vec::new();
    for (name, route) in results {
        match route {
            Route::NotMet(text) => missing.push(Text::new(
                crate::compose!("路径", name, "：", text.zh),
                crate::compose!("route ", name, ": ", text.en),
            )),
            other => {
                best = Some(match best {
                    None => (name, other),
                    Some((best_name, best_route)) => {
                        let keep_best = matches!((&best_route, &other), (Route::Met(a), Route::Met(b)) | (Route::Upcoming(a), Route::Upcoming(b)) if a <= b)
                            || matches!((&best_route, &other), (Route::Met(_), Route::Upcoming(_)));
                        if keep_best {
                            (best_name, best_route)
                        } else {
                            (name, other)
                        }
                    }
                })
            }
        }
    }
    match best {
        Some((name, Route::Met(day))) => {
            m.route = Some(name.into());
            m.eligible_from = Some(day);
            m.status = Status::Met;
        }
        Some((name, Route::Upcoming(day))) => {
            m.route = Some(name.into());
            m.eligible_from = Some(day);
            m.status = Status::Upcoming;
        }
        _ => {
            m.status = Status::NotMet;
            m.missing = missing;
        }
    }
    m
}

pub fn evaluate(facts: &Facts, params: &Parameters, as_of: &AsOf, out: &mut Vec<Milestone>) {
    let held: BTreeSet<&str> = facts
        .level_certificates()
        .map(|c| c.occupation.as_str())
        .collect();
    for occupation in &held {
        let Some(level) = facts.highest_level_in(occupation) else {
            continue;
        };
        match level.next() {
            Some(target) => out.push(milestone_for(facts, params, as_of, occupation, target)),
            None => {
                let i = info();
                let mut m = Milestone::new(
                    ID,
                    &crate::compose!(occupation, "/", level.as_str()),
                    i.title,
                    i.citation,
                )
                .with_status(Status::Achieved);
                m.target = Some(level.as_str().into());
                m.target_label = Some(level_text(level));
                out.push(m);
            }
        }
    }
    // 初级工 for the occupations of current jobs without any certificate in them.
    let jobs: BTreeSet<&str> = facts
        .employments
        .iter()
        .filter(|e| e.current_on(as_of))
        .map(|e| e.occupation.as_str())
        .filter(|o| !held.contains(o))
        .collect();
    for occupation in jobs {
        out.push(milestone_for(
            facts,
            params,
            as_of,
            occupation,
            SkillLevel::JuniorWorker,
        ));
    }
}

#[cfg(test)]
mod tests;
