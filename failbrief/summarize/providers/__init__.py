"""Summarizers: one module per provider behind providers.base.Provider; the registry is in registry.py."""
