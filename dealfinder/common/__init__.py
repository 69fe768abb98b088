"""The floor: pieces with no domain knowledge that every app may use (base models, admin and API helpers,
logging, locks, queue errors, heartbeats, bulk COPY/upsert, CSP, cache, login lockouts, the outbound URL guard,
validators). It imports no app and not the roof (import-linter checks it: .importlinter)."""
