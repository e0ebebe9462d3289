"""DICOMweb on the local endpoint: WADO-RS, QIDO-RS and STOW-RS under `/datastore/{datastoreId}` (docs/dicomweb.md)."""
