"""Radiology reports: versioned, linked to studies by exam_id (docs/architecture.md)."""
