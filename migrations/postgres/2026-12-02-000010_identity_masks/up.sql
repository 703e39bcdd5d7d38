-- Identity-number masks show the last four characters only (they showed the region's first
-- three digits too, which with the birth date left a handful of candidates).
UPDATE learners
SET id_number_masked = '**************' || right(id_number_masked, 4)
WHERE id_number_masked IS NOT NULL;
UPDATE audit_log
SET summary = regexp_replace(summary, '"id_number":"[0-9]{3}[*]{11}', '"id_number":"**************', 'g')
WHERE summary LIKE '%"id_number":"___***********%';
