# Who may use the OPA sidecar's own HTTP API (opa run --authorization=basic).
#
# The sidecar loads Accord's policies and agreement data from files; its API
# is only for asking decisions. Anything not allowed here is refused, above
# all every write (PUT /v1/policies/..., PUT or PATCH /v1/data/...), so a
# process that can reach the sidecar can neither change the rules it decides
# with nor read the agreements back. This file lives outside policies/ so
# Accord's own engines never load it.
package system.authz

import rego.v1

# Fail closed: an unknown method or path, or a malformed input, is a refusal.
default allow := false

decisions := {"search", "scope", "pointer", "release"}

# Accord's queries (accord.policy.engine.OpaEngine):
# POST /v1/data/accord/<decision>/decision
allow if {
	input.method == "POST"
	count(input.path) == 5
	input.path[0] == "v1"
	input.path[1] == "data"
	input.path[2] == "accord"
	input.path[3] in decisions
	input.path[4] == "decision"
}

# Liveness and readiness probes: GET /health (with or without ?bundles&plugins).
allow if {
	input.method == "GET"
	input.path == ["health"]
}
