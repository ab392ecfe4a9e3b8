"""Calendar files (iCalendar) for the ceremony, its points, its programme and its week."""
