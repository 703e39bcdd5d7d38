DROP TABLE milestone_events;
DROP TABLE learner_milestones;
DROP TABLE rule_parameters;
