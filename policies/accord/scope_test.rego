# Tests for accord.scope. Run: python -m accord.policy.regotest policies/
# Input is set field by field and fixtures are bound to a local before `with`:
# see search_test.rego and policies/README.md for the regopy 1.5.2 reasons.
package accord.scope_test

import rego.v1

import data.accord.scope

agreements := {"local-pilot": {
	"id": "local-pilot",
	"version": 3,
	"title": "Lakeside County trafficking and missing persons pilot",
	"valid_from": "2026-01-01",
	"valid_until": "2027-12-31",
	"purposes": ["human_trafficking", "missing_person", "violent_crime", "victim_services"],
	"members": {
		"rivertown_pd": {
			"name": "Rivertown PD",
			"purposes": ["human_trafficking", "missing_person", "violent_crime"],
			"search_roles": ["investigator"],
			"release_roles": ["investigator"],
			"shares": {"record_types": ["rms_incident", "cad_call"], "exclude_labels": ["sealed", "juvenile"]},
			"pointer_fields": ["record_type", "coarse_date", "matched"],
		},
		"lakeside_so": {
			"name": "Lakeside County Sheriff's Office",
			"purposes": ["human_trafficking", "violent_crime"],
			"search_roles": ["investigator"],
			"release_roles": ["investigator"],
			"shares": {"record_types": ["rms_incident", "jail_booking"], "exclude_labels": ["juvenile"]},
			"pointer_fields": ["record_type", "coarse_date"],
		},
		"tip_hotline": {
			"name": "Regional trafficking tip line",
			"purposes": ["human_trafficking", "missing_person", "victim_services"],
			"search_roles": ["intake_supervisor"],
			"release_roles": [],
			"shares": {"record_types": ["hotline_tip"], "exclude_labels": []},
			"pointer_fields": ["record_type", "matched"],
		},
		"county_victim_services": {
			"name": "County Victim Services",
			"purposes": ["victim_services"],
			"search_roles": ["advocate"],
			"release_roles": ["advocate"],
			"shares": {"record_types": [], "exclude_labels": []},
			"pointer_fields": [],
		},
	},
}}

request := {
	"agreement": "local-pilot",
	"purpose": "human_trafficking",
	"requesting_agency": "lakeside_so",
	"now": "2026-11-23",
}

decide(req) := d if {
	fixture := agreements
	d := scope.decision with data.agreements as fixture
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.requesting_agency as req.requesting_agency
		with input.now as req.now
}

no_nodes := {"nodes": {}}

# --- who is in scope ---

test_other_members_in_the_purpose_are_in_scope if {
	decide(request) == {"nodes": {
		"rivertown_pd": {"record_types": ["cad_call", "rms_incident"], "exclude_labels": ["juvenile", "sealed"]},
		"tip_hotline": {"record_types": ["hotline_tip"], "exclude_labels": ["sealed"]},
	}}
}

test_requester_is_never_in_its_own_scope if {
	d := decide(object.union(request, {"requesting_agency": "rivertown_pd"}))
	not d.nodes.rivertown_pd
	object.keys(d.nodes) == {"lakeside_so", "tip_hotline"}
}

test_members_outside_the_purpose_are_not_in_scope if {
	# Only the police and the tip line take part in missing_person.
	d := decide(object.union(request, {"purpose": "missing_person", "requesting_agency": "rivertown_pd"}))
	object.keys(d.nodes) == {"tip_hotline"}
}

test_members_sharing_no_record_type_are_not_in_scope if {
	# Victim services takes part in victim_services but shares no records.
	decide(object.union(request, {"purpose": "victim_services", "requesting_agency": "tip_hotline"})) == no_nodes
}

test_record_types_and_labels_are_sorted if {
	d := decide(object.union(request, {"requesting_agency": "rivertown_pd", "purpose": "violent_crime"}))
	d.nodes.lakeside_so == {"record_types": ["jail_booking", "rms_incident"], "exclude_labels": ["juvenile", "sealed"]}
}

test_sealed_is_always_excluded if {
	# The tip line's agreement excludes no label; sealed records stay out anyway.
	decide(request).nodes.tip_hotline.exclude_labels == ["sealed"]
}

# --- nothing is in scope for a request the search decision would deny ---

test_unknown_agreement_has_no_scope if {
	decide(object.union(request, {"agreement": "harbor-pilot"})) == no_nodes
}

test_no_agreements_loaded_has_no_scope if {
	d := scope.decision with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.requesting_agency as "lakeside_so"
		with input.now as "2026-11-23"
	d == no_nodes
}

test_agreement_not_yet_valid_has_no_scope if {
	decide(object.union(request, {"now": "2025-12-31"})) == no_nodes
}

test_expired_agreement_has_no_scope if {
	decide(object.union(request, {"now": "2028-01-01"})) == no_nodes
}

test_purpose_outside_agreement_has_no_scope if {
	decide(object.union(request, {"purpose": "fraud"})) == no_nodes
}

test_requester_outside_agreement_has_no_scope if {
	decide(object.union(request, {"requesting_agency": "harbor_pd"})) == no_nodes
}

test_requester_outside_the_purpose_has_no_scope if {
	# The sheriff's office did not sign up for missing_person.
	decide(object.union(request, {"purpose": "missing_person"})) == no_nodes
}

test_empty_input_has_no_scope if {
	fixture := agreements
	d := scope.decision with data.agreements as fixture
	d == no_nodes
}

test_missing_requester_has_no_scope if {
	fixture := agreements
	d := scope.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.now as "2026-11-23"
	d == no_nodes
}

test_missing_now_has_no_scope if {
	fixture := agreements
	d := scope.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.requesting_agency as "lakeside_so"
	d == no_nodes
}
