"""Data access for the social domain (migration 0003): one module per aggregate.

Every function takes a pg8000 connection and runs in the caller's transaction (`kafkagram.db`;
functions that emit events refuse to run outside one, with outbox.OutboxError, before changing
anything). A state change that other services react to also writes its event to the outbox in that
transaction, so the row and the event commit or roll back together; counters change in the same
statement as the rows they count, and only when a row really was inserted or deleted, so repeated
likes, follows and their reverses are idempotent. A write that changes what a post shows notes it in
`db.changes(conn).posts`, so the post cache can forget it after COMMIT. Lists are cursor-paginated
(see `pagination`) with one query per page. Rule violations raise `errors.DomainError` subclasses
(Invalid, Unauthorized, Forbidden, NotFound, Conflict) before any statement fails, so the transaction
stays usable.
"""

from kafkagram.store.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from kafkagram.store.pagination import Page

__all__ = ["Conflict", "DomainError", "Forbidden", "Invalid", "NotFound", "Page", "Unauthorized"]
