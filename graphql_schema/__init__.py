"""The GraphQL API (Strawberry): every domain's graphql package composed into one schema (docs/graphql.md)."""
