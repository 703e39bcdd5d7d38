-- A change between two statuses that give the learner nothing to act on is recorded as
-- `changed`: every change of a stored milestone has its event.
ALTER TABLE milestone_events DROP CONSTRAINT milestone_events_event_check;
ALTER TABLE milestone_events ADD CONSTRAINT milestone_events_event_check
    CHECK (event IN ('newly_met', 'newly_upcoming', 'achieved', 'lost', 'lapsed', 'date_moved', 'changed'));
