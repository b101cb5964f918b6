"""The month's figures from the customer x month table: the figures of the month, the customers, the
groups, the actions, the customer value and its models, and the result the writers show."""
