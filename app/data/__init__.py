"""The data a session trains on: seeded toy datasets (datasets), the plane classification
sets (classification) and a user's uploaded CSV (upload). Imports nothing else of the app."""
