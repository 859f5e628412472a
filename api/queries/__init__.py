"""Read queries of the hot list routes: Core statements and row tuples, no ORM objects."""
