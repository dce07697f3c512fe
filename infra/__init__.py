"""The CDK app that deploys eksmon: scheduled check Lambdas, their dependency layer and the alert topic."""
