"""GitOps steps that CI runs and that run the same way locally: PR report, retrain, promote."""
