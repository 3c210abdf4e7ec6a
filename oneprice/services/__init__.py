"""Use cases. The CLI, the scheduler and the dashboard call only these modules."""
