"""Policy decisions: Rego evaluated in-process (regopy) or by an OPA server."""
