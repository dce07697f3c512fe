"""The simulated AWS account and EKS fleet: moto server on loopback, extended with what moto lacks.

Never shipped in a Lambda asset. Used by ``eksmon demo``, the tests and the benchmarks; the
product reaches it over HTTP exactly as it reaches AWS (AWS_ENDPOINT_URL).
"""
