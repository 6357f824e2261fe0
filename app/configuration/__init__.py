"""What a page is set to, and where it can be read: every setting synced with the URL
(settings, address), the lessons that set them, the one rule fitting the widths to the data
(widths) and the data in use (data_choice). Stands on :mod:`app.data`."""
