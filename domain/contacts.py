"""Who hears about work that needs staff (escalations, approval reminders, sync problems)
unless STAFF_NOTIFICATION_EMAIL names someone else."""

from __future__ import annotations

STAFF_NOTIFICATION_EMAIL = "staff@theworlddoor.example"
