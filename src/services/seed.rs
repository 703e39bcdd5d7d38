//! `skillpath seed`: fills a database with realistic synthetic data for benchmarks and trials —
//! institutions of every kind (technician colleges, some designated), programs, learners of the
//! three kinds with certificate histories, enrollments, employment spells and residence facts.
//! Deterministic for a given seed. The distributions are written down in docs/performance.md.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::certificates::NewCertificate;
use crate::db::institutions::{self, NewDesignation, NewInstitution, NewProgram};
use crate::db::learners::{self, NewLearner};
use crate::db::occupations::{self, OccupationRow};
use crate::db::records::{self, NewAward, NewEmployment, NewEnrollment};
use crate::db::schema::{awards, certificates, employments, learners as learners_table, users};
use crate::db::users::NewUser;
use crate::db::{self, Database, DbConnection};
use crate::domain::{
    encode_code_list, AwardKind, CertificateKind, CertificateStatus, ClassType, EducationLevel,
    EnrollmentStatus, Hukou, InstitutionId, InstitutionKind, Language, LearnerId, LearnerKind,
    NumberFormat, ProgramId, Role, SkillLevel,
};
use crate::error::AppError;

/// The password of every account `seed` makes (benchmark and trial databases only).
pub const SEEDED_PASSWORD: &str = "seeded learner password";

/// Learners written per transaction.
const BATCH: usize = 1_000;

/// (code, name, in the high-skill catalog, in the technician catalog)
const OCCUPATIONS: &[(&str, &str, bool, bool)] = &[
    ("6-18-02-04", "电工", true, true),
    ("6-18-01-01", "钳工", true, true),
    ("6-18-01-02", "机修钳工", true, true),
    ("6-18-04-01", "车工", true, true),
    ("6-18-04-02", "铣工", true, true),
    ("6-18-04-05", "数控车工", true, true),
    ("6-18-02-01", "焊工", true, true),
    ("6-25-04-08", "汽车维修工", true, false),
    ("6-31-01-03", "电子仪器仪表装调工", true, false),
    ("4-04-05-01", "计算机程序设计员", true, false),
    ("4-04-05-02", "计算机软件测试员", false, false),
    ("4-03-02-01", "中式烹调师", false, false),
    ("4-03-02-05", "西式面点师", false, false),
    ("4-10-04-01", "美容师", false, false),
    ("4-14-01-01", "养老护理员", true, false),
    ("4-14-02-01", "保育师", false, false),
    ("6-29-02-01", "砌筑工", false, false),
    ("6-23-03-09", "工业机器人系统运维员", true, true),
    ("4-07-02-05", "物流服务师", false, false),
    ("4-04-02-02", "网络与信息安全管理员", true, false),
];

/// What a seeding wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedSummary {
    pub institutions: usize,
    pub programs: usize,
    pub learners: usize,
    pub enrollments: usize,
    pub certificates: usize,
    pub employments: usize,
    pub seconds: f64,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn day_between(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + chrono::Duration::days(rng.gen_range(0..=span))
}

/// Picks by weights (percent or any scale).
fn weighted<'a, T>(rng: &mut StdRng, choices: &'a [(T, u32)]) -> &'a T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total.max(1));
    for (choice, weight) in choices {
        if n < *weight {
            return choice;
        }
        n -= weight;
    }
    &choices[0].0
}

struct Catalog {
    schools: Vec<(InstitutionId, Vec<(ProgramId, &'static str)>)>,
    enterprises: Vec<(InstitutionId, String)>,
}

/// Occupations, schools with programs and designations, enterprises.
fn institutions(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    learners: usize,
    run: i64,
    now: NaiveDateTime,
) -> Result<(Catalog, usize, usize), AppError> {
    for (code, name, high, technician) in OCCUPATIONS {
        if occupations::find(conn, code)?.is_none() {
            occupations::insert(
                conn,
                &OccupationRow {
                    code: (*code).into(),
                    name: (*name).into(),
                    high_skill_catalog: *high,
                    technician_catalog: *technician,
                    priority_industry: *high && *technician,
                    source: "seed".into(),
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
    }
    let school_kinds = [
        (InstitutionKind::SecondaryVocational, 25),
        (InstitutionKind::TechnicalSchool, 15),
        (InstitutionKind::SeniorTechnicalSchool, 10),
        (InstitutionKind::TechnicianCollege, 20),
        (InstitutionKind::HigherVocational, 20),
        (InstitutionKind::UndergraduateVocational, 10),
    ];
    let mut catalog = Catalog {
        schools: Vec::new(),
        enterprises: Vec::new(),
    };
    let mut programs = 0;
    for i in 0..(learners / 2_000).max(12) {
        let kind = *weighted(rng, &school_kinds);
        let name = format!("上海市第{}职业院校（{run}-{i}）", i + 1);
        let row = institutions::insert(
            conn,
            &NewInstitution {
                name: &name,
                kind,
                assessed: rng.gen_bool(0.7),
                created_at: now,
                updated_at: now,
            },
        )?;
        if kind == InstitutionKind::TechnicianCollege && rng.gen_bool(0.6) {
            let ended = rng.gen_bool(0.1);
            institutions::insert_designation(
                conn,
                &NewDesignation {
                    institution_id: row.id,
                    batch: "第一批",
                    designated_from: date(2021, 12, 13),
                    designated_until: ended.then(|| date(2024, 8, 31)),
                    end_reason: ended.then_some("复核未通过"),
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
        let mut offered = Vec::new();
        for p in 0..3 {
            let (code, occupation, _, _) = OCCUPATIONS[rng.gen_range(0..OCCUPATIONS.len())];
            let program = institutions::insert_program(
                conn,
                &NewProgram {
                    institution_id: row.id,
                    name: &format!("{occupation}专业{}", p + 1),
                    occupation_code: code,
                    created_at: now,
                    updated_at: now,
                },
                &[],
            )?;
            offered.push((program.id, code));
            programs += 1;
        }
        catalog.schools.push((row.id, offered));
    }
    for i in 0..(learners / 500).max(10) {
        let name = format!("上海某制造有限公司{run}-{i}");
        let row = institutions::insert(
            conn,
            &NewInstitution {
                name: &name,
                kind: InstitutionKind::Enterprise,
                assessed: rng.gen_bool(0.3),
                created_at: now,
                updated_at: now,
            },
        )?;
        catalog.enterprises.push((row.id, name));
    }
    let count = catalog.schools.len() + catalog.enterprises.len();
    Ok((catalog, count, programs))
}

/// One learner's facts besides the learner row.
#[derive(Default)]
struct History {
    enrollments: Vec<NewEnrollment>,
    certificates: Vec<NewCertificate>,
    employments: Vec<NewEmployment>,
    awards: Vec<NewAward>,
}

#[allow(clippy::too_many_arguments)]
fn history(
    rng: &mut StdRng,
    catalog: &Catalog,
    learner_id: LearnerId,
    kind: LearnerKind,
    serial: i64,
    today: NaiveDate,
    now: NaiveDateTime,
) -> History {
    let mut h = History::default();
    let enrolled = match kind {
        LearnerKind::Student => true,
        LearnerKind::Employee => rng.gen_bool(0.25),
        LearnerKind::Social => rng.gen_bool(0.10),
    };
    let mut occupation = OCCUPATIONS[rng.gen_range(0..OCCUPATIONS.len())].0;
    let mut first_issue = day_between(rng, date(2012, 1, 1), date(2024, 12, 31));
    if enrolled {
        let (_, programs) = &catalog.schools[rng.gen_range(0..catalog.schools.len())];
        let (program_id, code) = programs[rng.gen_range(0..programs.len())];
        occupation = code;
        let start_year = if kind == LearnerKind::Student {
            rng.gen_range(2020..=2025)
        } else {
            rng.gen_range(2008..=2019)
        };
        let start = date(start_year, 9, 1);
        let end = date(start_year + 3, 6, 30);
        let status = if end > today {
            EnrollmentStatus::Enrolled
        } else if rng.gen_bool(0.95) {
            EnrollmentStatus::Graduated
        } else {
            EnrollmentStatus::Withdrawn
        };
        h.enrollments.push(NewEnrollment {
            learner_id,
            program_id,
            cohort_id: None,
            start_date: start,
            end_date: end,
            full_time: rng.gen_bool(0.9),
            status,
            class_type: *weighted(
                rng,
                &[
                    (ClassType::Regular, 70),
                    (ClassType::TechnicianClass, 15),
                    (ClassType::NamedClass, 10),
                    (ClassType::Apprenticeship, 5),
                ],
            ),
            created_at: now,
            updated_at: now,
        });
        first_issue = day_between(rng, start + chrono::Duration::days(300), end);
    }
    // Certificates: 0–3, levels rising, 1–4 years apart.
    let count = *weighted(rng, &[(0usize, 20), (1, 40), (2, 25), (3, 15)]);
    let mut grade = if kind == LearnerKind::Student {
        rng.gen_range(3..=4)
    } else {
        rng.gen_range(4..=5)
    };
    let mut issued = first_issue;
    for c in 0..count {
        if issued > today {
            break;
        }
        let Some(level) = SkillLevel::ALL.iter().copied().find(|l| l.grade() == grade) else {
            break;
        };
        let status = *weighted(
            rng,
            &[
                (CertificateStatus::Verified, 85),
                (CertificateStatus::Pending, 10),
                (CertificateStatus::Rejected, 5),
            ],
        );
        let skill_level = issued.year() >= 2019;
        h.certificates.push(NewCertificate {
            learner_id,
            number: format!("Y31{:019}", serial * 4 + c as i64),
            number_format: if skill_level {
                NumberFormat::SkillLevel
            } else {
                NumberFormat::VocationalQualification
            },
            kind: if skill_level {
                CertificateKind::SkillLevel
            } else {
                CertificateKind::VocationalQualification
            },
            level,
            occupation_code: occupation.into(),
            issuer: "上海市职业技能鉴定中心".into(),
            issued_on: issued,
            status,
            warnings: "[]".into(),
            submitted_by: None,
            created_at: now,
            updated_at: now,
        });
        grade -= 1;
        if grade == 0 {
            break;
        }
        issued += chrono::Duration::days(rng.gen_range(365..=4 * 365));
    }
    // Employment: employees 1–3 spells (the last often open), social learners half one spell.
    let spells = match kind {
        LearnerKind::Employee => rng.gen_range(1..=3),
        LearnerKind::Social if rng.gen_bool(0.5) => 1,
        _ => 0,
    };
    let mut start = day_between(rng, date(2008, 1, 1), date(2023, 12, 31));
    for s in 0..spells {
        if start > today {
            break;
        }
        let last = s + 1 == spells;
        let end = start + chrono::Duration::days(rng.gen_range(365..=8 * 365));
        let open = last && rng.gen_bool(0.8);
        let end = if open || end > today { None } else { Some(end) };
        let employer = (kind == LearnerKind::Employee && rng.gen_bool(0.5))
            .then(|| &catalog.enterprises[rng.gen_range(0..catalog.enterprises.len())]);
        h.employments.push(NewEmployment {
            learner_id,
            employer_name: employer
                .map_or_else(|| "上海某服务有限公司".to_owned(), |e| e.1.clone()),
            employer_institution_id: employer.map(|e| e.0),
            occupation_code: if rng.gen_bool(0.8) {
                occupation.into()
            } else {
                OCCUPATIONS[rng.gen_range(0..OCCUPATIONS.len())].0.into()
            },
            post_title: "技术员".into(),
            start_date: start,
            end_date: end,
            in_shanghai: rng.gen_bool(0.92),
            frontline: rng.gen_bool(0.6),
            dedicated_trainer: rng.gen_bool(0.03),
            created_at: now,
            updated_at: now,
        });
        // A later spell may overlap the previous one by up to a month.
        start = end.unwrap_or(today) - chrono::Duration::days(rng.gen_range(0..=30));
    }
    if rng.gen_bool(0.01) {
        h.awards.push(NewAward {
            learner_id,
            kind: *weighted(
                rng,
                &[
                    (AwardKind::ProvincialCompetitionGold, 50),
                    (AwardKind::NationalCompetitionMedal, 20),
                    (AwardKind::Other, 30),
                ],
            ),
            title: "上海市职业技能竞赛".into(),
            awarded_on: day_between(rng, date(2015, 1, 1), today),
            created_at: now,
        });
    }
    h
}

fn learner_row(rng: &mut StdRng, serial: i64, now: NaiveDateTime) -> NewLearner {
    let kind = *weighted(
        rng,
        &[
            (LearnerKind::Student, 45),
            (LearnerKind::Employee, 40),
            (LearnerKind::Social, 15),
        ],
    );
    let hukou = *weighted(
        rng,
        &[
            (Some(Hukou::Shanghai), 35),
            (Some(Hukou::Other), 60),
            (None, 5),
        ],
    );
    let non_local = hukou == Some(Hukou::Other);
    let permit = (non_local && rng.gen_bool(0.7))
        .then(|| day_between(rng, date(2012, 1, 1), date(2025, 12, 31)));
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
    let given = ["芳", "伟", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰"];
    NewLearner {
        name: format!(
            "{}{}",
            surnames[rng.gen_range(0..surnames.len())],
            given[rng.gen_range(0..given.len())]
        ),
        kind,
        email: rng
            .gen_bool(0.8)
            .then(|| format!("learner{serial}@seed.example")),
        preferred_language: if rng.gen_bool(0.03) {
            Language::En
        } else {
            Language::ZhCn
        },
        hukou,
        residence_permit_since: permit,
        social_insurance_since: permit.map(|p| p + chrono::Duration::days(rng.gen_range(0..400))),
        income_tax_in_shanghai: non_local.then(|| rng.gen_bool(0.8)),
        insurance_base_at_least_average_6_of_12: non_local.then(|| rng.gen_bool(0.5)),
        education_level: Some(*weighted(
            rng,
            &[
                (EducationLevel::Secondary, 55),
                (EducationLevel::Associate, 30),
                (EducationLevel::Bachelor, 12),
                (EducationLevel::Master, 3),
            ],
        )),
        education_occupation_codes: encode_code_list::<&str>(&[]),
        birth_date: Some(day_between(rng, date(1975, 1, 1), date(2009, 12, 31))),
        id_number_ciphertext: None,
        id_number_hash: None,
        id_number_masked: None,
        registered_by_institution_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// Writes `learners` learners with their histories (and the institutions they need), and with
/// `accounts` a learner account for each (`learner{n}@seed.example`, password
/// `SEEDED_PASSWORD`; one hash serves them all). Blocking.
pub fn seed(
    database: &Database,
    learners: usize,
    seed: u64,
    accounts: bool,
) -> Result<SeedSummary, AppError> {
    let password_hash = if accounts {
        Some(
            crate::auth::password::hash(SEEDED_PASSWORD)
                .map_err(|e| AppError::internal("hashing", e))?,
        )
    } else {
        None
    };
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let now = db::now();
    let today = crate::domain::today_in_shanghai();
    let mut conn = database.get()?;
    // Serial numbers continue after what is stored, so emails and certificate numbers stay unique.
    let run: i64 = learners_table::table
        .select(diesel::dsl::max(learners_table::id))
        .first::<Option<i64>>(&mut *conn)?
        .unwrap_or(0);
    let (catalog, institutions_written, programs) =
        db::write_transaction(&mut conn, |c| institutions(c, &mut rng, learners, run, now))?;
    let mut summary = SeedSummary {
        institutions: institutions_written,
        programs,
        ..SeedSummary::default()
    };
    let mut written = 0;
    while written < learners {
        let size = BATCH.min(learners - written);
        let batch = db::write_transaction(&mut conn, |c| -> Result<SeedSummary, AppError> {
            let rows: Vec<NewLearner> = (0..size)
                .map(|i| learner_row(&mut rng, run + (written + i) as i64 + 1, now))
                .collect();
            let kinds: Vec<LearnerKind> = rows.iter().map(|r| r.kind).collect();
            let ids: Vec<LearnerId> = learners::insert_many(c, &rows)?
                .into_iter()
                .map(|k| k.0)
                .collect();
            let firsts: Vec<(LearnerId, LearnerKind)> =
                ids.iter().copied().zip(kinds.iter().copied()).collect();
            learners::record_first_kinds(c, &firsts, date(2000, 1, 1), None, now)?;
            let mut all = History::default();
            for (i, (id, kind)) in ids.iter().zip(&kinds).enumerate() {
                let serial = run + (written + i) as i64 + 1;
                let h = history(&mut rng, &catalog, *id, *kind, serial, today, now);
                all.enrollments.extend(h.enrollments);
                all.certificates.extend(h.certificates);
                all.employments.extend(h.employments);
                all.awards.extend(h.awards);
            }
            records::insert_enrollments(c, &all.enrollments)?;
            for chunk in all.certificates.chunks(1_000) {
                crate::each_backend!(c, b => diesel::insert_into(certificates::table).values(chunk).execute(b))?;
            }
            for chunk in all.employments.chunks(1_000) {
                crate::each_backend!(c, b => diesel::insert_into(employments::table).values(chunk).execute(b))?;
            }
            if !all.awards.is_empty() {
                crate::each_backend!(c, b => diesel::insert_into(awards::table).values(&all.awards).execute(b))?;
            }
            if let Some(hash) = &password_hash {
                let emails: Vec<String> = (0..ids.len())
                    .map(|i| format!("learner{}@seed.example", run + (written + i) as i64 + 1))
                    .collect();
                let users: Vec<NewUser<'_>> = ids
                    .iter()
                    .zip(&emails)
                    .map(|(id, email)| NewUser {
                        email,
                        password_hash: hash,
                        role: Role::Learner,
                        institution_id: None,
                        learner_id: Some(*id),
                        disabled: false,
                        token_version: 0,
                        created_at: now,
                        updated_at: now,
                    })
                    .collect();
                crate::each_backend!(c, b => diesel::insert_into(users::table).values(&users).execute(b))?;
            }
            Ok(SeedSummary {
                learners: ids.len(),
                enrollments: all.enrollments.len(),
                certificates: all.certificates.len(),
                employments: all.employments.len(),
                ..SeedSummary::default()
            })
        })?;
        summary.learners += batch.learners;
        summary.enrollments += batch.enrollments;
        summary.certificates += batch.certificates;
        summary.employments += batch.employments;
        written += size;
    }
    db::analyze(
        &mut conn,
        &[
            "learners",
            "learner_kind_changes",
            "enrollments",
            "certificates",
            "employments",
            "awards",
            "institutions",
            "programs",
            "users",
        ],
    )?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
