"""Numbered SQL migrations `NNNN_name.sql`, applied in order by `emulator.store.db.Store`."""
