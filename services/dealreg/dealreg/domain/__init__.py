"""Pure deal-registration rules: no I/O, no Faust, no SQLAlchemy."""
