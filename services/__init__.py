"""boto3 and data logic for the console; never imports textual, tui or screens (a test proves it)."""
