"""The admin pages: routes only (what they change lives in the packages below)."""
