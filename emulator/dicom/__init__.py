"""DICOM P10 to image sets: parsing, pixel decoding, HTJ2K storage, verification, metadata and grouping.

Pure code with no HTTP and no store: the import worker feeds it object streams and commits what it returns;
what it checks before spending memory is in docs/import-limits.md.
"""
