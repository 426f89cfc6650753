"""The customer area as web pages: a backend-for-frontend over the other services."""
