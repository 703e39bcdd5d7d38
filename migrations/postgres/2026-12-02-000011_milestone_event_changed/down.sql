-- Undoing drops the `changed` events: the older table has no room for them.
DELETE FROM milestone_events WHERE event = 'changed';
ALTER TABLE milestone_events DROP CONSTRAINT milestone_events_event_check;
ALTER TABLE milestone_events ADD CONSTRAINT milestone_events_event_check
    CHECK (event IN ('newly_met', 'newly_upcoming', 'achieved', 'lost', 'lapsed', 'date_moved'));
