ALTER TABLE notification_outbox DROP COLUMN secret;
DROP TABLE account_links;
