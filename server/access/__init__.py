"""Who may read patient data (tokens and roles) and the trail of every look at it (audit events)."""
