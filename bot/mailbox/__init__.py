"""The mailbox data probe: has the mail arrived in Exchange Online (the guide's "check OWA")."""
