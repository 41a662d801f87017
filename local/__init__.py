"""Local deploys of the kit into an AWS emulator (make deploy-local / e2e-local / destroy-local)."""
