"""The reports domain in the GraphQL API: the report, its versions, and its root fields."""
