"""The database: models, sessions, repositories, field encryption and migrations."""
