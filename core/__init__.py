"""The shared vocabulary every stage speaks: record types and the error base class."""
