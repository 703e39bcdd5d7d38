//! The learner's separate consent to each share (PIPL Art. 23: providing personal information to
//! another processor needs separate consent, after being told who receives it, why, how and
//! what; Art. 29: certificates and the identity number are sensitive). The text is versioned: a
//! share records the version the learner agreed to, the text itself and when.

use crate::rules::Text;

/// The version of the text below; a share request must name it (a client showing an older text
/// is refused, and fetches the current one from `GET /me/shares/consent`).
pub const VERSION: &str = "share-consent-2026-12";

/// What the learner agrees to, in both languages.
pub fn text() -> Text {
    Text::new(
        "我单独同意：Skillpath 将我在本次共享中选择的证书（证书编号、等级、职业、发证机构和日期、核验状态）\
和里程碑，连同我的姓名和遮盖后的身份证号，提供给持有本次共享码的企业人力资源人员（若我指定了企业，则仅限该企业），\
用于我填写的用途；对方可在共享有效期内在线查看，并可用签名声明离线核对。每次查看都会被记录并通知我。\
我可以随时撤销共享，撤销后对方无法再查看；共享结束后，查看记录按保留期限删除。",
        "I separately consent to Skillpath providing the certificates I choose for this share \
(number, level, occupation, issuer and date, verification status) and milestones, with my name and \
my masked identity number, to the HR staff of an enterprise who hold this share's code (only the \
enterprise I name, if I name one), for the purpose I state. They can look at them online while the \
share is valid, and check a signed statement offline. Every look is recorded and I am told of it. \
I can revoke the share at any time, after which they can no longer look; after the share ends, the \
record of looks is deleted after its retention period.",
    )
}
