"""eksmon: watches Amazon EKS control planes and says, before it hurts, what will break them."""

__version__ = "0.1.0"
