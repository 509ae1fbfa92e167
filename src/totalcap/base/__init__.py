"""The base layer: scoped models and views, the domain event log, transitions, jobs."""
