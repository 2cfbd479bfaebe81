"""Errors that carry a user-facing message: the file, key or value at fault and what was expected."""


class PDELibError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class ConfigError(PDELibError, ValueError):
    """An unknown, mistyped or out-of-range parameter."""


class DataError(PDELibError, ValueError):
    """A missing, corrupt or malformed data file, or data with the wrong shape or NaN values."""


class SolverError(PDELibError, RuntimeError):
    """A PDE solve went non-finite or broke its stability bound."""


class TrainingError(PDELibError, RuntimeError):
    """Training went non-finite (NaN or infinite loss or weights) and was stopped."""
