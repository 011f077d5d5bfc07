"""The pure rules: runbook, approvals, reminders, domains, the tenant form, command words, limits,
the dns step's rule and evidence, the clock. No I/O.
"""
