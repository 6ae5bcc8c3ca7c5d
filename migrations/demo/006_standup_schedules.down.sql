DROP TABLE standup_schedules;
