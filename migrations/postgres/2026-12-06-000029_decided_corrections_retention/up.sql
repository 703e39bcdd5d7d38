-- Seed values of every rule parameter (generated from src/rules/params.rs; a test keeps them equal).
INSERT INTO rule_parameters (name, occupation_code, value, effective_from, effective_until, source, clause, note, created_by, created_at) VALUES ('retention.decided_corrections_days', NULL, '365', '1990-01-01', NULL, 'Skillpath service setting', 'Retention', '', NULL, '2026-11-29 00:00:00');
