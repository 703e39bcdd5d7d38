-- Identity-number masks show the last four characters only (they showed the region's first
-- three digits too, which with the birth date left a handful of candidates).
UPDATE learners
SET id_number_masked = '**************' || substr(id_number_masked, -4)
WHERE id_number_masked IS NOT NULL;
UPDATE audit_log
SET summary = replace(summary, substr(summary, instr(summary, '"id_number":"') + 13, 3) || '***********', '**************')
WHERE summary LIKE '%"id_number":"___***********%';
