"""The Campaign Monitor API v3.3 sandbox."""
