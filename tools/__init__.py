"""Developer tools: not part of the CDK app or the Lambda code."""
