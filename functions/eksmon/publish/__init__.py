"""Publishers: everything that consumes findings (CLI output, SNS messages, CloudWatch metrics)."""
