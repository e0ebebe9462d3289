"""Deterministic demo data for the local endpoint: synthetic DICOM phantoms and the seeded demo world."""
