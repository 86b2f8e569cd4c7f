"""The autolabel app's template tags."""
