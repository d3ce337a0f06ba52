"""The access domain in the GraphQL API: the audit trail for admins."""
