package system.authz_test

import data.system.authz
import rego.v1

test_search_decision_allowed if {
	authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "search", "decision"]
}

test_scope_decision_allowed if {
	authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "scope", "decision"]
}

test_pointer_decision_allowed if {
	authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "pointer", "decision"]
}

test_release_decision_allowed if {
	authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "release", "decision"]
}

test_health_allowed if {
	authz.allow with input.method as "GET" with input.path as ["health"]
}

test_policy_upload_refused if {
	not authz.allow with input.method as "PUT" with input.path as ["v1", "policies", "accord_search"]
}

test_data_write_refused if {
	not authz.allow with input.method as "PUT" with input.path as ["v1", "data", "agreements"]
}

test_data_patch_refused if {
	not authz.allow with input.method as "PATCH" with input.path as ["v1", "data"]
}

test_reading_agreements_refused if {
	not authz.allow with input.method as "GET" with input.path as ["v1", "data", "agreements"]
}

test_reading_a_decision_by_get_refused if {
	not authz.allow with input.method as "GET" with input.path as ["v1", "data", "accord", "search", "decision"]
}

test_other_rules_of_a_package_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "search", "reasons"]
}

test_unknown_decision_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "export", "decision"]
}

test_whole_package_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "search"]
}

test_longer_path_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "data", "accord", "search", "decision", "allow"]
}

test_authz_policy_itself_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "data", "system", "authz", "allow"]
}

test_ad_hoc_query_refused if {
	not authz.allow with input.method as "POST" with input.path as ["v1", "query"]
}

test_missing_method_refused if {
	not authz.allow with input.path as ["v1", "data", "accord", "search", "decision"]
}

test_missing_path_refused if {
	not authz.allow with input.method as "POST"
}

test_path_not_a_list_refused if {
	not authz.allow with input.method as "POST" with input.path as "/v1/data/accord/search/decision"
}
