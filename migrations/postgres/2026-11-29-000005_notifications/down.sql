DROP TABLE inbox_messages;
DROP TABLE notification_outbox;
