"""The hub: projects, per-project run queues and sessions, the event bus, subscriptions."""
