"""Use cases on storage: one function per use case, each taking a unit of work.

Every function is scoped to the caller's workspace (``Caller.team_id``) and either returns a
typed result or raises ``Refusal`` (a message saying why, and what to do next).
"""
