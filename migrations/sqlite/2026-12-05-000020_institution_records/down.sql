DROP TABLE teacher_development;
DROP TABLE teacher_years;
DROP TABLE training_deliveries;
