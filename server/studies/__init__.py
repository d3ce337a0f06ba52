"""The app that owns the examination records ("studies"): models, migrations, bulk loading, demo data."""
