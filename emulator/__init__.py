"""The local endpoint: AWS HealthImaging on loopback, with moto serving S3 and KMS on the same port."""
