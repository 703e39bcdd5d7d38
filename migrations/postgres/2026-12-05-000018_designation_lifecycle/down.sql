DROP TABLE designation_steps;
DROP TABLE designation_application_projects;
DROP TABLE designation_applications;
DROP TABLE partnerships;
