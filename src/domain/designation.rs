//! The vocabulary of the designation lifecycle (policy 六): where an application stands, which
//! bodies decide on it, what each step is, and the partners its conditions count.

crate::string_enum! {
    /// Where an application to become a 新型技师学院 stands.
    ApplicationState {
        /// The institution's staff are preparing it.
        Draft => "draft",
        /// Submitted; the bodies of 六(一) review it (初审).
        PreliminaryReview => "preliminary_review",
        /// A college's application waits for the city education department's consent.
        CityEducationConsent => "city_education_consent",
        /// With the city HR department, for the expert review (评审, 六(二)).
        ExpertReview => "expert_review",
        /// Passed the review; in public notice (公示).
        PublicNotice => "public_notice",
        /// 挂牌: a designation period is open.
        Designated => "designated",
        /// Found short of its targets: 限期整改 until a deadline (六(三)).
        Rectification => "rectification",
        /// 摘牌: still short after rectification; the designation period ended.
        DeDesignated => "de_designated",
        /// Refused at a review, or an objection upheld in the public notice.
        Rejected => "rejected",
        /// Withdrawn by the institution before a designation.
        Withdrawn => "withdrawn",
    }
}

impl ApplicationState {
    /// Whether nothing more can happen to the application.
    pub fn is_final(self) -> bool {
        matches!(self, Self::DeDesignated | Self::Rejected | Self::Withdrawn)
    }
}

crate::string_enum! {
    /// The bodies that decide on an application (六(一)–(三)).
    ReviewBody {
        /// 区教育部门.
        DistrictEducation => "district_education",
        /// 区人力资源社会保障部门.
        DistrictHr => "district_hr",
        /// 行业主管部门.
        IndustryAuthority => "industry_authority",
        /// 上级主管部门 (of a higher-vocational college).
        SuperiorDepartment => "superior_department",
        /// 市教育部门.
        CityEducation => "city_education",
        /// 市人力资源社会保障部门, with the experts it convenes.
        CityHr => "city_hr",
    }
}

crate::string_enum! {
    /// A step taken on an application.
    ApplicationStep {
        Submit => "submit",
        Withdraw => "withdraw",
        PreliminaryReview => "preliminary_review",
        CityEducationConsent => "city_education_consent",
        ExpertReview => "expert_review",
        Objection => "objection",
        Designate => "designate",
        Evaluate => "evaluate",
        ReEvaluate => "re_evaluate",
    }
}

crate::string_enum! {
    /// Which side of a partnership the partner is on (annex 一.2: a college's partners are
    /// enterprises; 二.2: an enterprise's are colleges).
    PartnerKind {
        Enterprise => "enterprise",
        College => "college",
    }
}

crate::string_enum! {
    /// What a step decided.
    StepDecision {
        /// A review passed, or consent given.
        Approved => "approved",
        /// A review failed, or consent refused.
        Rejected => "rejected",
        /// An evaluation found the targets met.
        Meets => "meets",
        /// An evaluation found them short.
        Short => "short",
        /// An objection in the public notice was upheld.
        Upheld => "upheld",
        /// An objection was dismissed.
        Dismissed => "dismissed",
    }
}

crate::string_enum! {
    /// What an institution delivered: training, or assessment (评价) (annex 一.4 / 二.4).
    DeliveryKind {
        Training => "training",
        Assessment => "assessment",
    }
}

crate::string_enum! {
    /// 师资培训 or 教师企业实践 (policy 四(二)).
    DevelopmentKind {
        TeacherTraining => "teacher_training",
        EnterprisePractice => "enterprise_practice",
    }
}

crate::string_enum! {
    /// The yearly targets of a designated institution (policy 四, annex).
    TargetKind {
        /// 高级工以上年培训量 ≥ 200 person-times (四(一)).
        SeniorTraining => "senior_training",
        /// 师资培训或企业实践 ≥ 100 person-times a year (四(二)).
        TeacherDevelopment => "teacher_development",
        /// The share of 双师型 or 一体化 teachers, rising year on year (四(二)).
        DualQualifiedShare => "dual_qualified_share",
        /// Stable partners ≥ 3 (annex 一.2 / 二.2).
        StablePartners => "stable_partners",
    }
}

impl ApplicationState {
    /// How the state is named to people: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Draft => ("草稿", "draft"),
            Self::PreliminaryReview => ("初审中", "in preliminary review"),
            Self::CityEducationConsent => {
                ("待市教育部门同意", "awaiting the city education department")
            }
            Self::ExpertReview => ("待专家评审", "awaiting the expert review"),
            Self::PublicNotice => ("公示中", "in public notice"),
            Self::Designated => ("已挂牌", "designated"),
            Self::Rectification => ("限期整改", "in rectification"),
            Self::DeDesignated => ("已摘牌", "de-designated"),
            Self::Rejected => ("未通过", "rejected"),
            Self::Withdrawn => ("已撤回", "withdrawn"),
        }
    }
}

impl ApplicationStep {
    /// How the step is named to people: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Submit => ("提交申报", "submitted"),
            Self::Withdraw => ("撤回申报", "withdrawn"),
            Self::PreliminaryReview => ("初审", "preliminary review"),
            Self::CityEducationConsent => ("市教育部门意见", "city education department's consent"),
            Self::ExpertReview => ("专家评审", "expert review"),
            Self::Objection => ("公示异议", "objection in the public notice"),
            Self::Designate => ("挂牌", "designation"),
            Self::Evaluate => ("绩效评估", "performance evaluation"),
            Self::ReEvaluate => ("整改复评", "re-evaluation after rectification"),
        }
    }
}

impl ReviewBody {
    /// How the body is named to people: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::DistrictEducation => ("区教育部门", "district education department"),
            Self::DistrictHr => ("区人力资源社会保障部门", "district HR department"),
            Self::IndustryAuthority => ("行业主管部门", "industry department"),
            Self::SuperiorDepartment => ("上级主管部门", "superior department"),
            Self::CityEducation => ("市教育部门", "city education department"),
            Self::CityHr => ("市人力资源社会保障部门", "city HR department"),
        }
    }
}

impl TargetKind {
    /// How the target is named to people: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::SeniorTraining => (
                "高级工以上培训量（人次）",
                "training at Senior Worker or above (person-times)",
            ),
            Self::TeacherDevelopment => (
                "师资培训或企业实践（人次）",
                "teacher training or enterprise practice (person-times)",
            ),
            Self::DualQualifiedShare => (
                "“双师型”或一体化师资占比",
                "share of dual-qualified or integrated teachers",
            ),
            Self::StablePartners => ("稳定合作单位数", "stable partners"),
        }
    }
}

impl StepDecision {
    /// How the decision is named to people: (zh-CN, en).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Approved => ("通过", "approved"),
            Self::Rejected => ("不通过", "rejected"),
            Self::Meets => ("达标", "meets the targets"),
            Self::Short => ("未达标", "short of the targets"),
            Self::Upheld => ("异议成立", "upheld"),
            Self::Dismissed => ("异议不成立", "dismissed"),
        }
    }
}
