-- Seeded learners were stored with the text '[]' for "no occupation codes of their
-- education", which reads back as one code '[]'. The empty list is the empty text.
UPDATE learners SET education_occupation_codes = '' WHERE education_occupation_codes = '[]';
