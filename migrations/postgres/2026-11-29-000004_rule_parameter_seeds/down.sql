DELETE FROM rule_parameters WHERE created_by IS NULL AND effective_from = '1990-01-01';
