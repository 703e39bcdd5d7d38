//! What every page shares: the reader's language, the stylesheet's address, and the logout
//! form's CSRF token when someone is logged in.

use actix_web::HttpRequest;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::auth::web_session::WebSession;
use crate::domain::{CertificateStatus, Language, Role, SkillLevel, SHANGHAI};

pub const LANGUAGE_COOKIE: &str = "sp_lang";

/// The page frame's values, and the two-language texts of the templates.
pub struct Ui {
    pub language: Language,
    /// The stylesheet, by its content-hashed address.
    pub css: &'static str,
    /// The script of every page (registers the service worker), and the app's icon.
    pub script: &'static str,
    pub icon: &'static str,
    /// The path of this page, for the language switch to come back to.
    pub here: String,
    /// The session's CSRF token, when logged in (the logout form carries it).
    pub logout_csrf: Option<String>,
    /// Whether the reader is a learner (whose pages the menu lists).
    pub learner: bool,
}

impl Ui {
    pub fn new(req: &HttpRequest, logout_csrf: Option<String>) -> Self {
        Self {
            language: language_of(req),
            css: super::assets::stylesheet_url(),
            script: super::assets::app_script_url(),
            icon: super::assets::icon_url(),
            here: req.path().to_owned(),
            logout_csrf,
            learner: false,
        }
    }

    /// The frame of a page for someone logged in.
    pub fn signed(req: &HttpRequest, session: &WebSession) -> Self {
        let mut ui = Self::new(req, Some(session.csrf_token.clone()));
        ui.learner = session.user.role == Role::Learner;
        ui
    }

    /// The text in the reader's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.language {
            Language::ZhCn => zh,
            Language::En => en,
        }
    }

    pub fn html_lang(&self) -> &'static str {
        self.language.as_str()
    }

    /// A skill level as the reader names it: 高级工, or Senior worker.
    pub fn level(&self, level: SkillLevel) -> &'static str {
        match self.language {
            Language::ZhCn => level.name_zh(),
            Language::En => level.name_en(),
        }
    }

    /// Where a certificate stands, in words.
    pub fn certificate_status(&self, status: CertificateStatus) -> &'static str {
        match status {
            CertificateStatus::Pending => self.t("待核验", "Awaiting verification"),
            CertificateStatus::Verified => self.t("已核验", "Verified"),
            CertificateStatus::Rejected => self.t("未通过核验", "Rejected"),
            CertificateStatus::Revoked => self.t("已撤销", "Revoked"),
        }
    }

    /// Where a share stands, in words.
    pub fn share_status(&self, status: crate::services::sharing::ShareStatus) -> &'static str {
        use crate::services::sharing::ShareStatus;
        match status {
            ShareStatus::Active => self.t("有效", "Active"),
            ShareStatus::Revoked => self.t("已撤销", "Revoked"),
            ShareStatus::Expired => self.t("已过期", "Expired"),
        }
    }

    /// The Shanghai day of a stored (UTC) moment, as [`Ui::date`] writes it.
    pub fn day_of(&self, moment: NaiveDateTime) -> String {
        self.date(moment.and_utc().with_timezone(&SHANGHAI).date_naive())
    }

    /// A stored (UTC) moment in Shanghai time: the day and HH:MM.
    pub fn moment(&self, moment: NaiveDateTime) -> String {
        let local = moment.and_utc().with_timezone(&SHANGHAI);
        format!(
            "{} {}",
            self.date(local.date_naive()),
            local.format("%H:%M")
        )
    }

    /// A date as the reader writes it: 2026年2月28日, or 28 Feb 2026.
    pub fn date(&self, date: NaiveDate) -> String {
        match self.language {
            Language::ZhCn => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
            Language::En => date.format("%-d %b %Y").to_string(),
        }
    }
}

/// The language chosen with the switch (a cookie), else the first of `Accept-Language` that
/// Skillpath speaks, else Chinese.
pub fn language_of(req: &HttpRequest) -> Language {
    if let Some(chosen) = req
        .cookie(LANGUAGE_COOKIE)
        .and_then(|c| c.value().parse::<Language>().ok())
    {
        return chosen;
    }
    let accepted = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for tag in accepted.split(',') {
        let tag = tag
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("zh") {
            return Language::ZhCn;
        }
        if tag.starts_with("en") {
            return Language::En;
        }
    }
    Language::ZhCn
}
