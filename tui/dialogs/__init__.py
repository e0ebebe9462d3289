"""Modal dialogs shared by every screen."""
