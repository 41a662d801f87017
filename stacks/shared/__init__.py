"""Building blocks every workload reuses: one construct (or helper) per file."""
