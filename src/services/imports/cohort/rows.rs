//! The rows of a cohort file: their columns (English or Chinese headers, Chinese cell values),
//! each row checked on its own and against the rest of the file.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::{
    checks::Checks, ClassType, EmailAddress, EnrollmentStatus, Hukou, IdentityNumber, Language,
    LearnerKind,
};
use crate::error::AppError;
use crate::services::imports::csv::{self as import, Column, Columns, Rejections};

pub const COHORT_COLUMNS: &[Column] = &[
    Column {
        name: "name",
        aliases: &["姓名", "学员姓名", "学生姓名"],
        required: true,
    },
    Column {
        name: "id_number",
        aliases: &["身份证号", "身份证号码", "公民身份号码", "证件号码"],
        required: false,
    },
    Column {
        name: "email",
        aliases: &["邮箱", "电子邮箱", "电子邮件"],
        required: false,
    },
    Column {
        name: "kind",
        aliases: &["学员类型", "人员类型", "类型"],
        required: false,
    },
    Column {
        name: "start_date",
        aliases: &["入学日期", "入学时间", "开始日期"],
        required: true,
    },
    Column {
        name: "end_date",
        aliases: &["毕业日期", "预计毕业日期", "结束日期"],
        required: true,
    },
    Column {
        name: "full_time",
        aliases: &["全日制", "是否全日制"],
        required: false,
    },
    Column {
        name: "class_type",
        aliases: &["班级类型", "班型"],
        required: false,
    },
    Column {
        name: "status",
        aliases: &["学籍状态", "状态"],
        required: false,
    },
    Column {
        name: "preferred_language",
        aliases: &["语言", "首选语言"],
        required: false,
    },
    Column {
        name: "hukou",
        aliases: &["户籍", "户口"],
        required: false,
    },
];

/// Cell values as Chinese exports write them, mapped to the API's names.
fn translate<'a>(column: &str, value: &'a str) -> &'a str {
    match (column, value) {
        ("kind", "在校学生" | "学生") => "student",
        ("kind", "在职职工" | "职工" | "在职") => "employee",
        ("kind", "社会人员" | "社会") => "social",
        ("class_type", "企业冠名班" | "冠名班") => "named_class",
        ("class_type", "技师班") => "technician_class",
        ("class_type", "学徒制" | "新型学徒制" | "现代学徒制") => "apprenticeship",
        ("class_type", "普通班" | "普通") => "regular",
        ("status", "在读" | "在校") => "enrolled",
        ("status", "毕业" | "已毕业") => "graduated",
        ("status", "退学" | "肄业") => "withdrawn",
        ("hukou", "上海" | "本市" | "上海市") => "shanghai",
        ("hukou", "外省市" | "外地" | "非本市") => "other",
        ("preferred_language", "中文" | "简体中文" | "zh" | "zh-cn") => "zh-CN",
        ("preferred_language", "英文" | "English" | "english") => "en",
        _ => value,
    }
}

/// One checked row of the file.
pub struct CohortLine {
    pub line: u64,
    pub name: String,
    pub id_number: Option<IdentityNumber>,
    pub email: Option<String>,
    pub kind: LearnerKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub full_time: bool,
    pub class_type: ClassType,
    pub status: EnrollmentStatus,
    pub language: Language,
    pub hukou: Option<Hukou>,
    /// Whether the file gave the kind and the language (else they are defaults).
    pub kind_given: bool,
    pub language_given: bool,
}

pub fn parse_line(
    columns: &Columns,
    record: &csv::StringRecord,
    line: u64,
    rejected: &mut Rejections,
) -> Option<CohortLine> {
    let mut checks = Checks::new();
    let cell = |c: &str| columns.get(record, c).map(|v| translate(c, v));
    let name = checks.text("name", cell("name").unwrap_or_default(), 100);
    let id_number =
        cell("id_number").and_then(|v| checks.with("id_number", IdentityNumber::parse(v)));
    let email = cell("email")
        .and_then(|v| checks.with("email", EmailAddress::parse(v)))
        .map(EmailAddress::into_inner);
    if cell("id_number").is_none() && cell("email").is_none() {
        checks.add(
            "id_number",
            "an identity number or an email is needed to match the learner",
        );
    }
    let kind = checks.parse::<LearnerKind>("kind", cell("kind").unwrap_or("student"));
    let start = checks.with(
        "start_date",
        cell("start_date")
            .ok_or_else(|| "is required".to_owned())
            .and_then(import::parse_date),
    );
    let end = checks.with(
        "end_date",
        cell("end_date")
            .ok_or_else(|| "is required".to_owned())
            .and_then(import::parse_date),
    );
    checks.ordered("end_date", start, end, "start_date");
    let full_time = cell("full_time").map_or(Some(true), |v| {
        checks.with("full_time", import::parse_flag(v))
    });
    let class_type =
        checks.parse::<ClassType>("class_type", cell("class_type").unwrap_or("regular"));
    let status = checks.parse::<EnrollmentStatus>("status", cell("status").unwrap_or("enrolled"));
    let language = checks.parse::<Language>(
        "preferred_language",
        cell("preferred_language").unwrap_or("zh-CN"),
    );
    let hukou = cell("hukou").and_then(|v| checks.parse::<Hukou>("hukou", v));
    let had_hukou = cell("hukou").is_some();
    match checks.done(|| {
        Some(CohortLine {
            line,
            name: name?,
            id_number,
            email,
            kind: kind?,
            start: start?,
            end: end?,
            full_time: full_time?,
            class_type: class_type?,
            status: status?,
            language: language?,
            hukou: if had_hukou { Some(hukou?) } else { None },
            kind_given: cell("kind").is_some(),
            language_given: cell("preferred_language").is_some(),
        })
    }) {
        Ok(line) => Some(line),
        Err(AppError::Validation(errors)) => {
            rejected.push_all(line, errors);
            None
        }
        Err(_) => None,
    }
}

/// Whether a row agrees with the rows before it: one email, one person (checked before any
/// lookup, so that a file bound to fail never holds the database while it is matched).
pub fn file_consistent(
    line: &CohortLine,
    emails: &mut HashMap<String, Option<String>>,
    rejected: &mut Rejections,
) -> bool {
    let Some(email) = &line.email else {
        return true;
    };
    let person = line.id_number.as_ref().map(|n| n.expose().to_owned());
    match emails.get(email) {
        Some(seen) if seen.is_some() && person.is_some() && seen != &person => {
            rejected.push(
                line.line,
                "email",
                "is used by another row of this file for a different learner",
            );
            false
        }
        _ => {
            emails.entry(email.clone()).or_insert(person);
            true
        }
    }
}
