"""The outbox: posts written in the transaction of the change they announce, delivered later."""
