"""trackwatch: notices parcels in trouble before customers write in."""

__version__ = "0.1.0"
