crate::string_enum! {
    /// National skill levels, lowest first (RULES.md, Skill levels).
    SkillLevel {
        /// 初级工, 五级.
        JuniorWorker => "junior_worker",
        /// 中级工, 四级.
        IntermediateWorker => "intermediate_worker",
        /// 高级工, 三级.
        SeniorWorker => "senior_worker",
        /// 技师, 二级.
        Technician => "technician",
        /// 高级技师, 一级.
        SeniorTechnician => "senior_technician",
    }
}

impl SkillLevel {
    /// The national grade number: 5 for 初级工 … 1 for 高级技师.
    pub fn grade(self) -> u8 {
        match self {
            SkillLevel::JuniorWorker => 5,
            SkillLevel::IntermediateWorker => 4,
            SkillLevel::SeniorWorker => 3,
            SkillLevel::Technician => 2,
            SkillLevel::SeniorTechnician => 1,
        }
    }

    pub fn from_grade(grade: u8) -> Option<Self> {
        SkillLevel::ALL.iter().copied().find(|l| l.grade() == grade)
    }

    /// The level above, if any.
    pub fn next(self) -> Option<Self> {
        SkillLevel::from_grade(self.grade().checked_sub(1)?)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            SkillLevel::JuniorWorker => "初级工",
            SkillLevel::IntermediateWorker => "中级工",
            SkillLevel::SeniorWorker => "高级工",
            SkillLevel::Technician => "技师",
            SkillLevel::SeniorTechnician => "高级技师",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            SkillLevel::JuniorWorker => "Junior Worker (Level 5)",
            SkillLevel::IntermediateWorker => "Intermediate Worker (Level 4)",
            SkillLevel::SeniorWorker => "Senior Worker (Level 3)",
            SkillLevel::Technician => "Technician (Level 2)",
            SkillLevel::SeniorTechnician => "Senior Technician (Level 1)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SkillLevel::*;

    #[test]
    fn ordering_and_grades() {
        assert!(JuniorWorker < SeniorWorker && SeniorWorker < SeniorTechnician);
        assert_eq!(SeniorWorker.next(), Some(Technician));
        assert_eq!(SeniorTechnician.next(), None);
        assert_eq!(super::SkillLevel::from_grade(5), Some(JuniorWorker));
        assert_eq!(super::SkillLevel::from_grade(0), None);
    }
}
