"""The studies domain in the GraphQL API: types, filters, ordering and root fields."""
