//! A learner's notification preferences: per category and channel, and quiet hours for email
//! (Asia/Shanghai, default 22:00–08:00; email due then goes out after). Certificate decisions
//! and milestones concern rights and deadlines (a revoked certificate, a lost milestone), so
//! their inbox copy cannot be turned off; email can. Notices of access to shared records can be
//! turned off entirely (the access log stays).

use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{checks::Checks, Category, SHANGHAI};
use crate::error::AppError;

impl Category {
    /// How the category is named to learners: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Category::Certificate => ("证书核验结果", "certificate decisions"),
            Category::Milestone => ("里程碑与提醒", "milestones and reminders"),
            Category::Share => ("共享记录的查看", "views of your shared records"),
            Category::Account => (
                "账户开通与密码重设",
                "account activation and password reset",
            ),
            Category::Institution => (
                "本单位的申报与目标",
                "your institution's application and targets",
            ),
            Category::Requests => (
                "您关于个人信息的请求",
                "your requests about your personal information",
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    pub inbox: bool,
    pub email: bool,
}

impl Channels {
    fn on() -> Self {
        Self {
            inbox: true,
            email: true,
        }
    }
}

/// The answers to the learner's own requests: in the inbox, and by email when they have one.
const OWN_REQUESTS: Channels = Channels {
    inbox: true,
    email: true,
};

/// Account links: by email only, never in the inbox (a person who cannot log in cannot read it).
const ACCOUNT_LINKS: Channels = Channels {
    inbox: false,
    email: true,
};

/// An institution's affairs, to its staff: in the inbox and by email.
const INSTITUTION_AFFAIRS: Channels = Channels {
    inbox: true,
    email: true,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, Shanghai time. Equal start and end: no quiet hours.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"certificate": {"inbox": true, "email": true}, "milestone": {"inbox": true, "email": false},
    "share": {"inbox": true, "email": false}, "quiet_hours": {"start": "22:00", "end": "08:00"}}))]
pub struct Preferences {
    pub certificate: Channels,
    pub milestone: Channels,
    /// Access to shared records (absent in preferences saved before shares existed: on).
    #[serde(default = "Channels::on")]
    pub share: Channels,
    pub quiet_hours: QuietHours,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            certificate: Channels::on(),
            milestone: Channels::on(),
            share: Channels::on(),
            quiet_hours: QuietHours {
                start: "22:00".into(),
                end: "08:00".into(),
            },
        }
    }
}

fn time(value: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| format!("'{value}' is not a time HH:MM"))
}

impl Preferences {
    /// Every channel on, no quiet hours.
    pub fn without_quiet_hours() -> Self {
        let mut prefs = Self::default();
        prefs.quiet_hours.end = prefs.quiet_hours.start.clone();
        prefs
    }

    /// Checks a request: times that parse, and inbox copies left on.
    pub fn check(&self) -> Result<(), AppError> {
        let mut checks = Checks::new();
        checks.with("quiet_hours.start", time(&self.quiet_hours.start));
        checks.with("quiet_hours.end", time(&self.quiet_hours.end));
        for (field, channels) in [
            ("certificate.inbox", &self.certificate),
            ("milestone.inbox", &self.milestone),
        ] {
            checks.ensure(
                channels.inbox,
                field,
                "cannot be turned off: these notices concern your rights and deadlines",
            );
        }
        checks.done(|| Some(()))
    }

    pub fn channels(&self, category: Category) -> &Channels {
        match category {
            Category::Certificate => &self.certificate,
            Category::Milestone => &self.milestone,
            Category::Share => &self.share,
            // Asked for (or expected) by the person themselves: not a preference.
            Category::Account => &ACCOUNT_LINKS,
            // To staff about their institution's affairs: part of their work, both channels.
            Category::Institution => &INSTITUTION_AFFAIRS,
            // The answers to the learner's own requests: asked for, so not a preference.
            Category::Requests => &OWN_REQUESTS,
        }
    }

    /// The channels of a category a learner chooses (`None` for account links, which are not
    /// theirs to turn off).
    pub fn channels_mut(&mut self, category: Category) -> Option<&mut Channels> {
        match category {
            Category::Certificate => Some(&mut self.certificate),
            Category::Milestone => Some(&mut self.milestone),
            Category::Share => Some(&mut self.share),
            Category::Account | Category::Institution | Category::Requests => None,
        }
    }

    /// The categories a learner chooses channels for.
    pub fn chosen_categories() -> impl Iterator<Item = Category> {
        Category::ALL.iter().copied().filter(|c| {
            !matches!(
                c,
                Category::Account | Category::Institution | Category::Requests
            )
        })
    }

    /// When an email produced at `now` (UTC) may go out: at once, or at the end of quiet hours.
    pub fn email_due(&self, now: NaiveDateTime) -> NaiveDateTime {
        let (Ok(start), Ok(end)) = (time(&self.quiet_hours.start), time(&self.quiet_hours.end))
        else {
            return now;
        };
        if start == end {
            return now;
        }
        let local = now.and_utc().with_timezone(&SHANGHAI).naive_local();
        let t = local.time();
        let quiet = if start < end {
            t >= start && t < end
        } else {
            t >= start || t < end
        };
        if !quiet {
            return now;
        }
        let mut release = local.date().and_time(end);
        if release <= local {
            release += Duration::days(1);
        }
        now + (release - local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_hold_email_until_morning_in_shanghai() {
        let p = Preferences::default();
        // 15:00 UTC = 23:00 Shanghai: held until 08:00 Shanghai = 00:00 UTC next day.
        assert_eq!(
            p.email_due(utc("2026-11-29 15:00")),
            utc("2026-11-30 00:00")
        );
        // 22:30 UTC = 06:30 Shanghai: held until 08:00 Shanghai the same morning.
        assert_eq!(
            p.email_due(utc("2026-11-29 22:30")),
            utc("2026-11-30 00:00")
        );
        // 03:00 UTC = 11:00 Shanghai: at once.
        assert_eq!(
            p.email_due(utc("2026-11-29 03:00")),
            utc("2026-11-29 03:00")
        );
    }

    #[test]
    fn inbox_copies_stay_on() {
        let mut p = Preferences::default();
        p.milestone.inbox = false;
        assert!(
            matches!(p.check(), Err(AppError::Validation(e)) if e[0].field == "milestone.inbox")
        );
        let mut p = Preferences::default();
        p.quiet_hours.start = "25:00".into();
        assert!(p.check().is_err());
        assert!(Preferences::default().check().is_ok());
    }
}
