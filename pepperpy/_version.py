"""The package version, in a module of its own so that low layers (the catalog cache key) can read it
without importing the package's face."""

__version__ = "0.1.0"
