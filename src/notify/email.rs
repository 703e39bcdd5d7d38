//! Email: the templates (zh-CN and en; subject, plain text and HTML with every piece of data
//! escaped), the message with its deterministic Message-ID and one-click unsubscribe headers
//! (RFC 8058), and the SMTP transport.

use std::fmt::Write as _;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::{Category, Message};
use crate::config::NotifySettings;
use crate::db::notifications::OutboxRow;
use crate::domain::{Language, NoticeKind};

/// Who an email goes to, read when it is sent (the learner may have changed their address).
#[derive(Debug, Clone)]
pub struct Addressee {
    pub name: String,
    pub email: String,
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a row cannot become an email; such a row will never be sendable (a poison row).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unrenderable(pub String);

/// The texts of one language that frame every email.
struct Frame {
    greeting: &'static str,
    category: &'static str,
    closing: &'static str,
    why: &'static str,
    unsubscribe: &'static str,
    open: &'static str,
    signature: &'static str,
}

fn frame(language: Language, category: Category, kind: NoticeKind) -> Frame {
    let link = matches!(kind, NoticeKind::Invitation | NoticeKind::PasswordReset);
    match language {
        Language::ZhCn => Frame {
            greeting: "您好，",
            category: category.names().0,
            closing: kind.closing(Language::ZhCn),
            why: "您收到此邮件，是因为您开启了此类邮件通知：",
            unsubscribe: "退订此类邮件",
            open: if link {
                "设置密码"
            } else {
                "在 Skillpath 中查看"
            },
            signature: "Skillpath（本邮件由系统发送，请勿直接回复）",
        },
        Language::En => Frame {
            greeting: "Hello ",
            category: category.names().1,
            closing: kind.closing(Language::En),
            why: "You receive this email because these notices are on: ",
            unsubscribe: "Unsubscribe from these emails",
            open: if link {
                "Choose a password"
            } else {
                "Open in Skillpath"
            },
            signature: "Skillpath (sent automatically; replies are not read)",
        },
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Where an email leads: the page it speaks of, and (learners' notices) the unsubscribe link.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    pub page: &'a str,
    pub unsubscribe: Option<&'a str>,
}

/// Renders a row's notice in the recipient's language, with a link to its page, and the
/// unsubscribe link when there is one (learners' notices).
pub fn render(
    row: &OutboxRow,
    recipient: &Addressee,
    links: Links<'_>,
) -> Result<RenderedEmail, Unrenderable> {
    let unsubscribe_url = links.unsubscribe;
    let message: Message = serde_json::from_str(&row.payload)
        .map_err(|e| Unrenderable(format!("payload is not a notice: {e}")))?;
    let f = frame(recipient.language, row.category, row.kind);
    let (title, body) = match recipient.language {
        Language::ZhCn => (&message.title.zh, &message.body.zh),
        Language::En => (&message.title.en, &message.body.en),
    };
    let name = recipient.name.trim();
    let greeting = match recipient.language {
        Language::ZhCn => format!("{name}{}", f.greeting),
        Language::En => format!("{}{name},", f.greeting),
    };
    let subject = format!("Skillpath: {title}");
    let mut text = format!(
        "{greeting}\n\n{body}\n\n{closing}\n{open}: {page}\n\n-- \n{signature}\n",
        closing = f.closing,
        open = f.open,
        page = links.page,
        signature = f.signature,
    );
    let mut html_footer = escape_html(f.signature);
    if let Some(url) = unsubscribe_url {
        let _ = write!(
            text,
            "{why}{category}\n{unsubscribe}: {url}\n",
            why = f.why,
            category = f.category,
            unsubscribe = f.unsubscribe,
        );
        let _ = write!(
            html_footer,
            "<br>{why}{category}<br><a href=\"{url}\">{unsubscribe}</a>",
            why = escape_html(f.why),
            category = escape_html(f.category),
            url = escape_html(url),
            unsubscribe = escape_html(f.unsubscribe),
        );
    }
    let lang = recipient.language.as_str();
    let mut html = String::with_capacity(1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
<body style=\"font-family:sans-serif;line-height:1.5;max-width:40em\">\n\
<p>{greeting}</p>\n<h2 style=\"font-size:1.1em\">{title}</h2>\n<p>{body}</p>\n<p>{closing}</p>\n\
<p><a href=\"{page}\">{open}</a></p>\n\
<hr><p style=\"color:#666;font-size:0.85em\">{html_footer}</p>\n</body></html>\n",
        title = escape_html(title),
        greeting = escape_html(&greeting),
        body = escape_html(body),
        closing = escape_html(f.closing),
        page = escape_html(links.page),
        open = escape_html(f.open),
    );
    Ok(RenderedEmail {
        subject,
        text,
        html,
    })
}

/// The same row always gets the same Message-ID, so a resend after a crash is recognisable as
/// the same message.
pub fn message_id(row: &OutboxRow, domain: &str) -> String {
    let digest = Sha256::digest(format!(
        "{:?}\u{1f}{:?}\u{1f}{}\u{1f}{}",
        row.learner_id, row.user_id, row.event_key, row.channel
    ));
    format!(
        "<notification.{}.{}@{domain}>",
        row.id,
        hex::encode(&digest[..8])
    )
}

/// The whole email of a row.
pub fn build(
    row: &OutboxRow,
    recipient: &Addressee,
    from: &Mailbox,
    links: Links<'_>,
) -> Result<lettre::Message, Unrenderable> {
    let rendered = render(row, recipient, links)?;
    let unsubscribe_url = links.unsubscribe;
    let to = Mailbox::new(
        Some(recipient.name.clone()),
        recipient
            .email
            .parse()
            .map_err(|e| Unrenderable(format!("recipient address: {e}")))?,
    );
    let header = |name: &'static str, value: String| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
    };
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id(row, from.email.domain())));
    if let Some(url) = unsubscribe_url {
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    builder
        .raw_header(header(
            "Content-Language",
            recipient.language.as_str().into(),
        ))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| Unrenderable(format!("building the message: {e}")))
}

/// How a send went wrong.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt: the server is unreachable, busy or answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// The server refused this message for good (5xx): retrying sends the same refusal.
    #[error("{0}")]
    Permanent(String),
}

/// The SMTP transport: connections are pooled and reused between messages.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl Mailer {
    /// `None` when `SMTP_URL` is unset: email is off.
    pub fn from_settings(settings: &NotifySettings) -> anyhow::Result<Option<Self>> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(settings.smtp_timeout))
            .pool_config(PoolConfig::new().max_size(settings.smtp_pool_size))
            .build();
        let from = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("SMTP_FROM: {e}"))?;
        Ok(Some(Self { transport, from }))
    }

    pub async fn send(&self, message: lettre::Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, LearnerId, NoticeId, OutboxStatus};
    use chrono::NaiveDate;

    fn row(payload: &str) -> OutboxRow {
        let t = NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(3, 0, 0)
            .unwrap();
        OutboxRow {
            id: NoticeId(7),
            learner_id: Some(LearnerId(3)),
            user_id: None,
            event_key: "certificate:9:verify".into(),
            channel: Channel::Email,
            category: Category::Certificate,
            kind: NoticeKind::CertificateVerified,
            payload: payload.into(),
            status: OutboxStatus::Pending,
            attempts: 1,
            due_at: t,
            lease_until: None,
            last_error: None,
            created_at: t,
            sent_at: None,
            secret: None,
        }
    }

    const PAYLOAD: &str = r#"{"title":{"zh-CN":"证书已核验：高级工","en":"Certificate verified: <Advanced>"},
        "body":{"zh-CN":"您的证书已核验。","en":"Your certificate & more was verified."}}"#;

    fn recipient(language: Language) -> Addressee {
        Addressee {
            name: "Wang <Fang>".into(),
            email: "wang.fang@example.cn".into(),
            language,
        }
    }

    #[test]
    fn renders_in_the_recipients_language_with_data_escaped_in_html() {
        let url = "https://sp.example.cn/api/v1/unsubscribe/3.certificate.sig";
        let links = Links {
            page: "https://sp.example.cn/progress",
            unsubscribe: Some(url),
        };
        let zh = render(&row(PAYLOAD), &recipient(Language::ZhCn), links).unwrap();
        assert!(zh
            .text
            .contains("在 Skillpath 中查看: https://sp.example.cn/progress"));
        assert_eq!(zh.subject, "Skillpath: 证书已核验：高级工");
        assert!(zh.text.contains("您的证书已核验。"));
        assert!(zh.text.contains(url));
        let en = render(&row(PAYLOAD), &recipient(Language::En), links).unwrap();
        assert!(en
            .html
            .contains("<a href=\"https://sp.example.cn/progress\">Open in Skillpath</a>"));
        assert_eq!(en.subject, "Skillpath: Certificate verified: <Advanced>");
        assert!(en.text.contains("Hello Wang <Fang>,"));
        assert!(en.html.contains("Certificate verified: &lt;Advanced&gt;"));
        assert!(en.html.contains("Hello Wang &lt;Fang&gt;,"));
        assert!(en.html.contains("certificate &amp; more"));
        assert!(!en.html.contains("<Fang>"));
        assert!(en.html.contains(&format!("href=\"{url}\"")));
    }

    #[test]
    fn a_payload_that_is_not_a_notice_is_unrenderable() {
        let links = Links {
            page: "https://sp.example.cn/progress",
            unsubscribe: None,
        };
        assert!(render(&row("{}"), &recipient(Language::En), links).is_err());
    }

    #[test]
    fn message_ids_are_deterministic_per_row() {
        let a = message_id(&row(PAYLOAD), "example.cn");
        assert_eq!(a, message_id(&row(PAYLOAD), "example.cn"));
        let mut other = row(PAYLOAD);
        other.id = NoticeId(8);
        other.event_key = "certificate:9:revoke".into();
        assert_ne!(a, message_id(&other, "example.cn"));
        assert!(a.starts_with("<notification.7.") && a.ends_with("@example.cn>"));
    }

    #[test]
    fn the_message_carries_the_unsubscribe_headers() {
        let from: Mailbox = "Skillpath <no-reply@example.cn>".parse().unwrap();
        let url = "https://sp.example.cn/api/v1/unsubscribe/t";
        let links = Links {
            page: "https://sp.example.cn/progress",
            unsubscribe: Some(url),
        };
        let message = build(&row(PAYLOAD), &recipient(Language::En), &from, links).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains(&format!("List-Unsubscribe: <{url}>")), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("Message-ID: <notification.7."));
    }
}
