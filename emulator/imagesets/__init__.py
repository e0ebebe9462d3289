"""Versions and asynchronous writes of image sets: metadata patches, copies, deletes and their locks."""
