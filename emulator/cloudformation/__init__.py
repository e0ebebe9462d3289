"""CloudFormation on the local endpoint: moto's stacks, with `AWS::HealthImaging::Datastore` served by our store.

docs/cloudformation.md describes the resource type, what a stack waits for and how failures show.
"""
