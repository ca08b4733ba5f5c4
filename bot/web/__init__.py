"""The HTTP shell: webhooks, health, and (later) signing and self-service pages."""
