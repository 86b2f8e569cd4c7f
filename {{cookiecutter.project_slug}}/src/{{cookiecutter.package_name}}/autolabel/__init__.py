"""An app of your own site that consumes the model: its records are labelled by the served model when saved."""
