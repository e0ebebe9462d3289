"""The local AWS world (moto's S3, KMS, IAM, STS, ...) kept in the state directory across restarts (docs/local-world.md)."""
