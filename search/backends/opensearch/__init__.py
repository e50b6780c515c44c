"""The OpenSearch backend, and real local nodes to run it on."""
