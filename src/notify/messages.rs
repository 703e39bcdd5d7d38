//! Every text a notification carries, in zh-CN and en, and the one list of what notices there
//! are ([`NoticeKind`]): a kind without its texts does not compile.

use chrono::NaiveDate;

use crate::domain::{Decision, Language, NoticeKind, SkillLevel};
use crate::rules::change::MilestoneChange;
use crate::rules::{Milestone, Text};

impl NoticeKind {
    /// The notice of a milestone's change, if the change is announced.
    pub fn of_change(change: MilestoneChange) -> Option<Self> {
        match change {
            MilestoneChange::NewlyMet => Some(Self::NewlyMet),
            MilestoneChange::NewlyUpcoming => Some(Self::NewlyUpcoming),
            MilestoneChange::DateMoved => Some(Self::DateMoved),
            MilestoneChange::Achieved => Some(Self::Achieved),
            MilestoneChange::Lost => Some(Self::Lost),
            MilestoneChange::Lapsed => Some(Self::Lapsed),
            MilestoneChange::Changed => None,
        }
    }

    /// The notice of an evaluator's decision.
    pub fn of_decision(decision: Decision) -> Self {
        match decision {
            Decision::Verify => Self::CertificateVerified,
            Decision::Reject => Self::CertificateRejected,
            Decision::Revoke => Self::CertificateRevoked,
        }
    }

    /// The last line of the notice's email: what to do next.
    pub fn closing(self, language: Language) -> &'static str {
        use NoticeKind::*;
        match language {
            Language::ZhCn => match self {
                CertificateVerified => "证书已核验，可用于后续等级申请与相关待遇。",
                CertificateRejected | CertificateRevoked => "如有疑问，请联系核验机构，或在 Skillpath 中查看核验记录。",
                ReliedRevoked => "此证书已不再有效；如已据此发放待遇，请按贵单位的规定处理。",
                NewlyMet => "请在 Skillpath 的“我的进度”中查看申请条件与政策依据。",
                NewlyUpcoming | Reminder => "请提前准备申请材料；日期的计算过程可在“我的进度”中查看。",
                Lost | Lapsed => "这可能影响您的权益，请在 Skillpath 中查看详情。",
                ShareAccessed | EmployerViewed => "如非您本人授权，请立即在 Skillpath 中撤销该共享；每次查看都记录在“我的共享”中。",
                DateMoved | Achieved => "详情与政策依据可在 Skillpath 的“我的进度”中查看。",
                Invitation | PasswordReset => "链接仅可使用一次，到期失效。如非本人操作，请忽略本邮件，您的账户不会有任何变化。",
                ApplicationStep => "申报的全部记录（各环节、决定与理由）可在 Skillpath 中本单位的申报页面查看。",
                TargetAtRisk => "各项指标的数据与所依据的记录可在 Skillpath 中本单位的目标页面查看；请在年底前补足。",
                CorrectionAccepted => "您的进度已按更正后的记录重新计算，可在“我的进度”中查看。",
                CorrectionRefused => "如仍认为记录有误，可附上证明材料再次提出，或联系记录该信息的单位。",
                DeletionScheduled => "如非您本人操作，或您改变了主意，请在此日期前登录 Skillpath 取消。删除前可下载您的个人信息副本。",
                DeletionCancelled => "您的账户和记录保持不变。",
                DataExported => "如您并未提出此申请，请联系您的学校或 Skillpath 管理员。",
            },
            Language::En => match self {
                CertificateVerified => "The certificate is verified and counts for your next level and related benefits.",
                CertificateRejected | CertificateRevoked => "If this seems wrong, contact the evaluating body or see the decision history in Skillpath.",
                ReliedRevoked => "The certificate is no longer valid; if a benefit rests on it, follow your organisation's rules.",
                NewlyMet => "The conditions and their policy basis are under My progress in Skillpath.",
                NewlyUpcoming | Reminder => "Prepare your application in time; how the date was computed is under My progress.",
                Lost | Lapsed => "This may affect your rights; see the details in Skillpath.",
                ShareAccessed | EmployerViewed => "If you did not allow this, revoke the share in Skillpath now; every view is listed under My shares.",
                DateMoved | Achieved => "The details and their policy basis are under My progress in Skillpath.",
                Invitation | PasswordReset => "The link works once and expires. If you did not expect this email, ignore it: nothing changes.",
                ApplicationStep => "Every step of the application, with its decisions and reasons, is on your institution's application page in Skillpath.",
                TargetAtRisk => "Each figure and the records behind it are on your institution's targets in Skillpath; there is still time before the year ends.",
                CorrectionAccepted => "Your progress was computed again from the corrected record: see My progress.",
                CorrectionRefused => "If you still think the record is wrong, ask again with supporting documents, or contact the institution that recorded it.",
                DeletionScheduled => "If this was not you, or you change your mind, log in to Skillpath and cancel before that day. You can download a copy of your data before then.",
                DeletionCancelled => "Your account and records stay as they are.",
                DataExported => "If you did not ask for it, contact your college or Skillpath's administrators.",
            },
        }
    }
}

/// A notification's text in both languages (stored as the outbox row's payload).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub title: Text,
    pub body: Text,
}

/// The email of an invitation to activate a learner's account; the link comes with it.
pub fn invitation_message(hours: i64) -> Message {
    Message {
        title: Text::new("开通您的 Skillpath 账户", "Activate your Skillpath account"),
        body: Text::new(
            format!("您的学习与技能等级记录已在 Skillpath 登记。请通过下面的链接设置密码、开通账户，之后即可随时查看您的申请日期与提醒。链接在{hours}小时内有效。"),
            format!("Your learning and skill-level records are kept in Skillpath. Choose a password through the link below to activate your account and follow your application dates and reminders. The link is valid for {hours} hours."),
        ),
    }
}

/// The email of a password reset; the link comes with it.
pub fn password_reset_message(minutes: i64) -> Message {
    Message {
        title: Text::new("重设您的 Skillpath 密码", "Reset your Skillpath password"),
        body: Text::new(
            format!("有人（希望是您本人）请求重设此账户的密码。请通过下面的链接设置新密码，链接在{minutes}分钟内有效。设置后，此账户在所有设备上的登录都将结束。"),
            format!("Someone (we hope you) asked to reset this account's password. Choose a new one through the link below within {minutes} minutes. Once set, the account is logged out on every device."),
        ),
    }
}

fn day(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// The notification of a change of a milestone (the events of `rules::change`).
pub fn milestone_message(
    event: MilestoneChange,
    before: Option<&Milestone>,
    after: Option<&Milestone>,
) -> Option<Message> {
    let m = after.or(before)?;
    let target = m.target_label.clone().unwrap_or_else(|| m.title.clone());
    let clause = format!("{} {}", m.citation.source, m.citation.clause);
    let (title, body) = match event {
        MilestoneChange::NewlyMet => (
            Text::new(
                format!("可以申请了：{}", target.zh),
                format!("You can now apply: {}", target.en),
            ),
            Text::new(
                format!(
                    "自{}起，您符合“{}”的条件（{}）。",
                    day(m.eligible_from),
                    m.title.zh,
                    clause
                ),
                format!(
                    "Since {} you meet the conditions of \"{}\" ({clause}).",
                    day(m.eligible_from),
                    m.title.en
                ),
            ),
        ),
        MilestoneChange::NewlyUpcoming => (
            Text::new(
                format!("{}起可申请：{}", day(m.eligible_from), target.zh),
                format!("From {}: {}", day(m.eligible_from), target.en),
            ),
            Text::new(
                format!(
                    "如无变化，您将于{}符合“{}”的条件。",
                    day(m.eligible_from),
                    m.title.zh
                ),
                format!(
                    "If nothing changes, you will meet the conditions of \"{}\" on {}.",
                    m.title.en,
                    day(m.eligible_from)
                ),
            ),
        ),
        MilestoneChange::DateMoved => {
            // Computed under other parameters: the policy's values changed (a parameter change
            // is the usual reason a date moves without a change of the learner's own facts).
            let policy_changed =
                before.is_some_and(|b| b.parameters_version != m.parameters_version);
            let (why_zh, why_en) = if policy_changed {
                (
                    "适用的政策参数已调整。",
                    " The policy parameters in force have changed.",
                )
            } else {
                ("", "")
            };
            (
                Text::new(
                    format!("日期变更：{}", target.zh),
                    format!("Date changed: {}", target.en),
                ),
                Text::new(
                    format!(
                        "“{}”的日期由{}变为{}。{why_zh}",
                        m.title.zh,
                        day(before.and_then(|b| b.eligible_from)),
                        day(m.eligible_from)
                    ),
                    format!(
                        "The date of \"{}\" moved from {} to {}.{why_en}",
                        m.title.en,
                        day(before.and_then(|b| b.eligible_from)),
                        day(m.eligible_from)
                    ),
                ),
            )
        }
        MilestoneChange::Achieved => (
            Text::new(
                format!("已达成：{}", target.zh),
                format!("Achieved: {}", target.en),
            ),
            Text::new(
                format!("恭喜！您已达成“{}”。", m.title.zh),
                format!("Congratulations: \"{}\" is achieved.", m.title.en),
            ),
        ),
        MilestoneChange::Lost => (
            Text::new(
                format!("条件不再满足：{}", m.title.zh),
                format!("No longer met: {}", m.title.en),
            ),
            Text::new(
                format!("“{}”的条件目前不再满足，请查看详情。", m.title.zh),
                format!(
                    "The conditions of \"{}\" are no longer met; see the details in the app.",
                    m.title.en
                ),
            ),
        ),
        MilestoneChange::Lapsed => (
            Text::new(
                format!("已过期：{}", m.title.zh),
                format!("Window closed: {}", m.title.en),
            ),
            Text::new(
                format!("“{}”的申请期已结束。", m.title.zh),
                format!("The window for \"{}\" has closed.", m.title.en),
            ),
        ),
        // A move between statuses that give the learner nothing is recorded, not announced.
        MilestoneChange::Changed => return None,
    };
    Some(Message { title, body })
}

/// The notification of a certificate decision.
pub fn certificate_message(
    decision: Decision,
    number: &str,
    level_zh: &str,
    level_en: &str,
    reason: &str,
) -> Message {
    let reason_zh = if reason.is_empty() {
        String::new()
    } else {
        format!("原因：{reason}")
    };
    let reason_en = if reason.is_empty() {
        String::new()
    } else {
        format!(" Reason: {reason}")
    };
    let (zh, en) = match decision {
        Decision::Verify => ("已核验", "verified"),
        Decision::Reject => ("未通过核验", "rejected"),
        Decision::Revoke => ("已撤销", "revoked"),
    };
    Message {
        title: Text::new(
            format!("证书{zh}：{level_zh}"),
            format!("Certificate {en}: {level_en}"),
        ),
        body: Text::new(
            format!("您的{level_zh}证书（编号{number}）{zh}。{reason_zh}"),
            format!("Your {level_en} certificate (number {number}) was {en}.{reason_en}"),
        ),
    }
}

/// The answer to a learner's correction request: accepted, or refused with the reason.
pub fn correction_message(accepted: bool, fields: &str, reason: &str) -> Message {
    if accepted {
        Message {
            title: Text::new("更正申请已接受", "Your correction was accepted"),
            body: Text::new(
                format!("您申请更正的记录（{fields}）已按您的申请更改。{reason}"),
                format!(
                    "The record you asked to correct ({fields}) was changed as you asked. {reason}"
                ),
            ),
        }
    } else {
        Message {
            title: Text::new("更正申请未被接受", "Your correction was refused"),
            body: Text::new(
                format!("您申请更正的记录（{fields}）未作更改。原因：{reason}"),
                format!(
                    "The record you asked to correct ({fields}) was not changed. Reason: {reason}"
                ),
            ),
        }
    }
}

/// The confirmation of a learner's request to delete their account.
pub fn deletion_scheduled_message(erase_on: NaiveDate) -> Message {
    Message {
        title: Text::new("账户删除已安排", "Your account is due to be deleted"),
        body: Text::new(
            format!("您已申请删除 Skillpath 账户。{erase_on} 之后，您的个人信息将被删除，分享将被撤销。"),
            format!("You asked to delete your Skillpath account. After {erase_on}, your personal information will be erased and your shares revoked."),
        ),
    }
}

/// To a learner: staff produced a copy of their data.
pub fn data_exported_message() -> Message {
    Message {
        title: Text::new("已为您导出个人信息副本", "A copy of your data was produced"),
        body: Text::new(
            "学校或 Skillpath 管理员应您的申请，导出了 Skillpath 保存的关于您的全部记录。",
            "Your college or Skillpath's administrators produced, at your request, a copy of every record Skillpath keeps about you.",
        ),
    }
}

/// The confirmation that a deletion was cancelled.
pub fn deletion_cancelled_message() -> Message {
    Message {
        title: Text::new("账户删除已取消", "Your account deletion was cancelled"),
        body: Text::new(
            "您已取消删除 Skillpath 账户的申请。",
            "You cancelled the deletion of your Skillpath account.",
        ),
    }
}

/// The reminder `days` before a milestone's date.
pub fn reminder_message(days: u32, m: &Milestone) -> Message {
    let target = m.target_label.clone().unwrap_or_else(|| m.title.clone());
    let date = m.eligible_from.map(|d| d.to_string()).unwrap_or_default();
    let clause = format!("{} {}", m.citation.source, m.citation.clause);
    Message {
        title: Text::new(
            format!("还有{days}天：{}", target.zh),
            format!("{days} days to go: {}", target.en),
        ),
        body: Text::new(
            format!(
                "如无变化，您将于{date}符合“{}”的条件（{clause}）。请提前准备申请材料。",
                m.title.zh
            ),
            format!(
                "If nothing changes, you will meet the conditions of \"{}\" on {date} ({clause}). Prepare your application in time.",
                m.title.en
            ),
        ),
    }
}

/// The notice to an HR account that a certificate it relied on was revoked.
pub fn revoked_notice_message(
    learner_name: &str,
    level: SkillLevel,
    number: &str,
    reason: &str,
    look: &crate::db::shares::Reliance,
) -> Message {
    let who = crate::domain::text::masked_name(learner_name);
    let when = look
        .accessed_at
        .and_utc()
        .with_timezone(&crate::domain::SHANGHAI)
        .format("%Y-%m-%d");
    let (via_zh, via_en) = match &look.purpose {
        Some(purpose) => (
            format!("通过共享（用途：{purpose}）"),
            format!("through a share (purpose: {purpose})"),
        ),
        None => ("作为雇主".to_owned(), "as the employer".to_owned()),
    };
    Message {
        title: Text::new(
            format!("您查看过的证书已被撤销：{who}的{}", level.name_zh()),
            format!("A certificate you viewed was revoked: {who}'s {}", level.name_en()),
        ),
        body: Text::new(
            format!(
                "您于{when}{via_zh}查看的{who}的{}证书（编号{number}）已被撤销。原因：{reason}。请勿再以此证书作为依据。",
                level.name_zh()
            ),
            format!(
                "The {} certificate (number {number}) of {who}, which you viewed {via_en} on {when}, was revoked. Reason: {reason}. Do not rely on it any more.",
                level.name_en()
            ),
        ),
    }
}

/// To the learner: HR staff of `enterprise` (`viewer`) looked at what they shared for `purpose`
/// (`Some`), or at their verified records as their employer (`None`), at `when`.
pub fn viewed_message(
    enterprise: &str,
    viewer: &str,
    purpose: Option<&str>,
    when: &str,
) -> (NoticeKind, Message) {
    match purpose {
        Some(purpose) => (
            NoticeKind::ShareAccessed,
            Message {
                title: Text::new(
                    format!("{enterprise}查看了您的共享"),
                    format!("{enterprise} viewed what you shared"),
                ),
                body: Text::new(
                    format!("{enterprise}的人事人员（{viewer}）于{when}查看了您为“{purpose}”共享的记录。"),
                    format!("HR staff of {enterprise} ({viewer}) viewed the records you shared for \"{purpose}\" on {when} (Shanghai time)."),
                ),
            },
        ),
        None => (
            NoticeKind::EmployerViewed,
            Message {
                title: Text::new(
                    format!("{enterprise}查看了您的已核验记录"),
                    format!("{enterprise} viewed your verified records"),
                ),
                body: Text::new(
                    format!("作为您的雇主，{enterprise}的人事人员（{viewer}）查看了您已核验的证书与已满足的条件。"),
                    format!("As your employer, HR staff of {enterprise} ({viewer}) viewed your verified certificates and met milestones."),
                ),
            },
        ),
    }
}

/// To an institution's staff: a step was taken on its designation application (policy 六).
pub fn application_step_message(
    institution: &str,
    step: crate::domain::ApplicationStep,
    to: crate::domain::ApplicationState,
    body_name: Option<&str>,
    decided_on: NaiveDate,
    reason: Option<&str>,
) -> Message {
    let (step_zh, step_en) = step.names();
    let (state_zh, state_en) = to.names();
    let by_zh = body_name.map(|b| format!("（{b}）")).unwrap_or_default();
    let by_en = body_name.map(|b| format!(" ({b})")).unwrap_or_default();
    let why_zh = reason.map(|r| format!("理由：{r}。")).unwrap_or_default();
    let why_en = reason.map(|r| format!(" Reason: {r}.")).unwrap_or_default();
    Message {
        title: Text::new(
            format!("新型技师学院申报：{step_zh}{by_zh}，{state_zh}"),
            format!("New-type technician college application: {step_en}{by_en}, now {state_en}"),
        ),
        body: Text::new(
            format!("{institution}的新型技师学院申报于{decided_on}完成“{step_zh}”{by_zh}，当前状态：{state_zh}。{why_zh}"),
            format!("{institution}'s application to become a new-type technician college: {step_en}{by_en} on {decided_on}; it is now {state_en}.{why_en}"),
        ),
    }
}

/// To an institution's staff: after the third quarter, a target of `year` its pace leaves short.
pub fn target_at_risk_message(
    institution: &str,
    year: i32,
    target: crate::domain::TargetKind,
    clause: &str,
    pace: Option<f64>,
    threshold: Option<f64>,
) -> Message {
    let (zh, en) = target.names();
    let figure = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v}"));
    let (pace, threshold) = (figure(pace), figure(threshold));
    Message {
        title: Text::new(
            format!("{year}年目标预警：{zh}"),
            format!("{year} target at risk: {en}"),
        ),
        body: Text::new(
            format!("按目前进度，{institution}{year}年的{zh}预计为{pace}，低于目标{threshold}（沪人社职〔2021〕489号 {clause}）。"),
            format!("At the present pace, {institution}'s {en} for {year} comes to {pace}, short of the target of {threshold} (沪人社职〔2021〕489号 {clause})."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_stored_and_closes_in_both_languages() {
        for kind in NoticeKind::ALL {
            assert_eq!(kind.as_str().parse::<NoticeKind>(), Ok(*kind));
            assert!(!kind.closing(Language::ZhCn).is_empty());
            assert!(kind.closing(Language::En).is_ascii());
        }
    }

    #[test]
    fn every_change_but_a_silent_one_is_announced() {
        for change in MilestoneChange::ALL {
            assert_eq!(
                NoticeKind::of_change(*change).is_none(),
                *change == MilestoneChange::Changed,
                "{change}"
            );
        }
    }
}
