"""Outgoing mail: messages rendered from ``templates/mail``, queued durably, sent over SMTP."""
