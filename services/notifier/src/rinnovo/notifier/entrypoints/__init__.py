"""HTTP API of the notifier: a customer's own history, the operators' view, webhooks."""
