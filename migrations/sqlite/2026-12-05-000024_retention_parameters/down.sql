DELETE FROM rule_parameters WHERE name LIKE 'retention.%' AND created_by IS NULL AND effective_from = '1990-01-01';
