"""Amazon EventBridge events the service sends (source `aws.medical-imaging`), delivered to moto's EventBridge.

docs/events.md says which state changes send which event, with which detail fields, and what delivery costs.
"""
