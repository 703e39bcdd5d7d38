//! The facts of a learner as a request carries them, checked into column changes: what a
//! registration, a change and an accepted correction request share.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::crypto::IdentityVault;
use crate::db::learners::LearnerChanges;
use crate::domain::{
    checks::Checks, encode_code_list, today_in_shanghai, EducationLevel, EmailAddress, Hukou,
    IdentityNumber, Language, LearnerKind, OccupationCode,
};
use crate::error::AppError;
use crate::services::learners::CheckedLearner;

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn explicit_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The facts of a learner as a request carries them (create: `name` and `kind` required).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "王芳", "kind": "student", "email": "wang.fang@example.cn", "preferred_language": "zh-CN",
    "hukou": "other", "id_number": "11010519491231002X"
}))]
pub struct LearnerInput {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = Option<LearnerKind>)]
    pub kind: Option<String>,
    /// Since when the learner is of this kind (default: today).
    pub kind_effective_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[schema(value_type = Option<Language>)]
    pub preferred_language: Option<String>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<Hukou>)]
    pub hukou: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub residence_permit_since: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub social_insurance_since: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<bool>)]
    pub income_tax_in_shanghai: Option<Option<bool>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<bool>)]
    pub insurance_base_at_least_average_6_of_12: Option<Option<bool>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<EducationLevel>)]
    pub education_level: Option<Option<String>>,
    pub education_occupation_codes: Option<Vec<String>>,
    /// Taken from the identity number when one is given.
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    /// 身份证号 (GB 11643, check digit verified). Stored encrypted; answered masked.
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
}

/// What a learner may change in their own record.
pub const SELF_EDITABLE: &[&str] = &[
    "email",
    "preferred_language",
    "hukou",
    "residence_permit_since",
    "social_insurance_since",
    "income_tax_in_shanghai",
    "insurance_base_at_least_average_6_of_12",
    "education_level",
    "education_occupation_codes",
];

impl LearnerInput {
    pub fn present_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut mark = |present: bool, name: &'static str| {
            if present {
                fields.push(name);
            }
        };
        mark(self.name.is_some(), "name");
        mark(self.kind.is_some(), "kind");
        mark(self.kind_effective_from.is_some(), "kind_effective_from");
        mark(self.email.is_some(), "email");
        mark(self.preferred_language.is_some(), "preferred_language");
        mark(self.hukou.is_some(), "hukou");
        mark(
            self.residence_permit_since.is_some(),
            "residence_permit_since",
        );
        mark(
            self.social_insurance_since.is_some(),
            "social_insurance_since",
        );
        mark(
            self.income_tax_in_shanghai.is_some(),
            "income_tax_in_shanghai",
        );
        mark(
            self.insurance_base_at_least_average_6_of_12.is_some(),
            "insurance_base_at_least_average_6_of_12",
        );
        mark(self.education_level.is_some(), "education_level");
        mark(
            self.education_occupation_codes.is_some(),
            "education_occupation_codes",
        );
        mark(self.birth_date.is_some(), "birth_date");
        mark(self.id_number.is_some(), "id_number");
        fields
    }

    /// Checks every field present and turns the request into column changes.
    pub fn check(self, vault: &IdentityVault, creating: bool) -> Result<CheckedLearner, AppError> {
        let mut checks = Checks::new();
        let today = today_in_shanghai();
        if creating {
            checks.ensure(self.name.is_some(), "name", "is required");
            checks.ensure(self.kind.is_some(), "kind", "is required");
        }
        let mut changes = LearnerChanges::default();
        if let Some(name) = &self.name {
            changes.name = checks.text("name", name, 100);
        }
        let kind = self
            .kind
            .as_deref()
            .and_then(|k| checks.parse::<LearnerKind>("kind", k));
        changes.kind = kind;
        if let Some(from) = self.kind_effective_from {
            checks.ensure(self.kind.is_some(), "kind_effective_from", "needs a kind");
            checks.ensure(
                from <= today,
                "kind_effective_from",
                "must not be in the future",
            );
        }
        if let Some(email) = self.email {
            changes.email = Some(
                match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                    None => None,
                    Some(e) => checks
                        .with("email", EmailAddress::parse(e))
                        .map(EmailAddress::into_inner),
                },
            );
        }
        if let Some(lang) = &self.preferred_language {
            changes.preferred_language = checks.parse::<Language>("preferred_language", lang);
        }
        if let Some(hukou) = self.hukou {
            changes.hukou = Some(hukou.and_then(|h| checks.parse::<Hukou>("hukou", &h)));
        }
        for (field, value, slot) in [
            (
                "residence_permit_since",
                self.residence_permit_since,
                &mut changes.residence_permit_since,
            ),
            (
                "social_insurance_since",
                self.social_insurance_since,
                &mut changes.social_insurance_since,
            ),
        ] {
            if let Some(value) = value {
                if let Some(date) = value {
                    checks.ensure(date <= today, field, "must not be in the future");
                }
                *slot = Some(value);
            }
        }
        changes.income_tax_in_shanghai = self.income_tax_in_shanghai;
        changes.insurance_base_at_least_average_6_of_12 =
            self.insurance_base_at_least_average_6_of_12;
        if let Some(level) = self.education_level {
            changes.education_level =
                Some(level.and_then(|l| checks.parse::<EducationLevel>("education_level", &l)));
        }
        let mut education_codes = Vec::new();
        if let Some(codes) = &self.education_occupation_codes {
            for (i, code) in codes.iter().enumerate() {
                if let Some(code) = checks.with(
                    &format!("education_occupation_codes[{i}]"),
                    OccupationCode::parse(code),
                ) {
                    education_codes.push(code.into_inner());
                }
            }
            changes.education_occupation_codes = Some(encode_code_list(&education_codes));
        }
        if let Some(birth) = self.birth_date {
            if let Some(date) = birth {
                checks.ensure(date <= today, "birth_date", "must not be in the future");
            }
            changes.birth_date = Some(birth);
        }
        let mut id_hash = None;
        if let Some(number) = self.id_number {
            match number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                None => {
                    changes.id_number_ciphertext = Some(None);
                    changes.id_number_hash = Some(None);
                    changes.id_number_masked = Some(None);
                }
                Some(raw) => {
                    if let Some(number) = checks.with("id_number", IdentityNumber::parse(raw)) {
                        let sealed = vault.seal(&number).map_err(AppError::Internal)?;
                        if changes.birth_date.is_none() {
                            changes.birth_date = Some(number.birth_date());
                        }
                        id_hash = Some(sealed.hash.clone());
                        changes.id_number_ciphertext = Some(Some(sealed.ciphertext));
                        changes.id_number_hash = Some(Some(sealed.hash));
                        changes.id_number_masked = Some(Some(sealed.masked));
                    }
                }
            }
        }
        let effective_from = self.kind_effective_from.unwrap_or(today);
        checks.done(|| {
            Some(CheckedLearner {
                changes,
                kind,
                effective_from,
                education_codes,
                id_hash,
            })
        })
    }
}
