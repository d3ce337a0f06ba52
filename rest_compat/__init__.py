"""REST facade that answers the legacy frontend's endpoints per docs/rest-contract.md."""
