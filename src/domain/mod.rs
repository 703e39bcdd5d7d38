//! Domain newtypes and vocabularies, parsed once at the edge so the rest of the code can trust them.

mod string_enum;

pub mod audit;
pub mod certificate_number;
pub mod checks;
mod designation;
mod email;
mod identity_number;
pub mod ids;
pub mod kinds;
mod notice;
mod occupation_code;
mod password;
mod role;
mod skill_level;
pub mod text;
mod time;

pub use audit::{AuditAction, AuditEntity};
pub use designation::{
    ApplicationState, ApplicationStep, DeliveryKind, DevelopmentKind, PartnerKind, ReviewBody,
    StepDecision, TargetKind,
};
pub use email::EmailAddress;
pub use identity_number::IdentityNumber;
pub use ids::{
    AwardId, CertificateId, CohortId, CorrectionRequestId, DesignationApplicationId, DesignationId,
    DesignationStepId, EmploymentId, EnrollmentId, InstitutionId, JobId, LearnerId, MessageId,
    NoticeId, PartnershipId, ProgramId, ShareId, TeacherDevelopmentId, TeacherYearId,
    TrainingDeliveryId, UserId,
};
pub use kinds::*;
pub use notice::{Category, Channel, LinkPurpose, NoticeKind, OutboxStatus};
pub use occupation_code::{decode_code_list, encode_code_list, OccupationCode};
pub use password::NewPassword;
pub use role::{Binding, Role};
pub use skill_level::SkillLevel;
pub use time::{today_in_shanghai, SHANGHAI};
