"""REST facade that answers the legacy frontend's endpoints per shared/CONTRACT.md (issue 5)."""
