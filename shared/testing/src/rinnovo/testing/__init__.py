"""Test support shared by every service's tests; no service depends on it at run time."""
