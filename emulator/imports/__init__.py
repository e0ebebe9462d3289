"""DICOM import jobs: S3 access through moto's backend, the job runner and its background service."""
