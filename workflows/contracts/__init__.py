"""Plain pydantic models exchanged by workflows, activities and the API (no I/O, no logic).

Activity names live here too, so workflows call activities by name only.
"""
