"""Domain errors raised by geo/ and layers/; api/errors.py maps them to HTTP status codes."""


class DomainError(Exception):
    """Base class of every error the service reports to a user."""


class InvalidParameter(DomainError):
    """A parameter (weight, filter, profile, bbox ...) is not acceptable."""


class InvalidGeometry(DomainError):
    """A geometry given by a client is not usable (invalid ring, outside NRW, too many vertices)."""


class NotFound(DomainError):
    """An id (site, municipality, collection, snapshot) does not exist."""


class TooLarge(DomainError):
    """A request or file exceeds a configured size limit."""


class Conflict(DomainError):
    """The request conflicts with work in progress (e.g. a second build while one runs)."""
