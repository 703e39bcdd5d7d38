DELETE FROM rule_parameters WHERE name = 'retention.decided_corrections_days' AND created_by IS NULL AND effective_from = '1990-01-01';
