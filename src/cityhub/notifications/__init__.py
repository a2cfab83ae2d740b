"""Notifications (clauses 5.8, 5.11): matching changes to subscriptions, the outbox, delivery."""
