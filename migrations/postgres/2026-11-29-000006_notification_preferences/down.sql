DROP TABLE notification_preferences;
