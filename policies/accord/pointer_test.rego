# Tests for accord.pointer. Run: python -m accord.policy.regotest policies/
# Input is set field by field and fixtures are bound to a local before `with`:
# see search_test.rego and policies/README.md for the regopy 1.5.2 reasons.
package accord.pointer_test

import rego.v1

import data.accord.pointer

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
			"shares": {"record_types": ["rms_incident", "cad_call", "warrant"], "exclude_labels": ["juvenile"]},
			"pointer_fields": ["record_type", "coarse_date", "matched"],
		},
		"lakeside_so": {
			"name": "Lakeside County Sheriff's Office",
			"purposes": ["human_trafficking", "violent_crime"],
			"search_roles": ["investigator"],
			"release_roles": ["investigator"],
			"shares": {"record_types": ["rms_incident", "jail_booking"], "exclude_labels": ["juvenile"]},
			# "subject_name" is not a pointer field: it must never be carried.
			"pointer_fields": ["coarse_date", "record_type", "subject_name"],
		},
		"tip_hotline": {
			"name": "Regional trafficking tip line",
			"purposes": ["human_trafficking", "missing_person", "victim_services"],
			"search_roles": [],
			"release_roles": [],
			"shares": {"record_types": ["hotline_tip"], "exclude_labels": []},
			"pointer_fields": ["record_type", "matched"],
		},
	},
}}

# The sheriff's office searches; the Rivertown PD node decides what to point to.
request := {
	"agreement": "local-pilot",
	"purpose": "human_trafficking",
	"requesting_agency": "lakeside_so",
	"owner": "rivertown_pd",
	"now": "2026-11-23",
}

# Rivertown PD's own rules: never point to warrants or to records about victims.
rivertown_rules := {"agency": "rivertown_pd", "exclude_labels": ["victim"], "record_types_withheld": ["warrant"]}

decide(req) := d if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.requesting_agency as req.requesting_agency
		with input.owner as req.owner
		with input.now as req.now
}

decide_at_node(req, local) := d if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
		with data.local as local
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.requesting_agency as req.requesting_agency
		with input.owner as req.owner
		with input.now as req.now
}

# A denial shows nothing: no record types, no fields, and sealed still excluded.
denied_for(reasons, d) if {
	d.allow == false
	d.reasons == reasons
	d.record_types == []
	d.fields == []
	"sealed" in d.exclude_labels
}

# --- allow ---

test_member_may_see_pointers_to_shared_records if {
	decide(request) == {
		"allow": true,
		"reasons": [],
		"record_types": ["cad_call", "rms_incident", "warrant"],
		"exclude_labels": ["juvenile", "sealed"],
		"fields": ["coarse_date", "matched", "record_type"],
		"pivot_kinds": [],
		"pivot_withhold": [],
	}
}

test_local_rules_tighten_the_agreement if {
	decide_at_node(request, rivertown_rules) == {
		"allow": true,
		"reasons": [],
		"record_types": ["cad_call", "rms_incident"],
		"exclude_labels": ["juvenile", "sealed", "victim"],
		"fields": ["coarse_date", "matched", "record_type"],
		"pivot_kinds": [],
		"pivot_withhold": [],
	}
}

test_local_rules_of_another_agency_do_not_apply if {
	d := decide_at_node(object.union(request, {"owner": "lakeside_so", "requesting_agency": "rivertown_pd"}), rivertown_rules)
	d.allow
	d.record_types == ["jail_booking", "rms_incident"]
	d.exclude_labels == ["juvenile", "sealed"]
}

test_sealed_is_excluded_even_when_the_agreement_does_not_say_so if {
	d := decide(object.union(request, {"owner": "tip_hotline"}))
	d.allow
	d.exclude_labels == ["sealed"]
}

test_pointer_fields_are_limited_to_the_three_known_ones if {
	d := decide(object.union(request, {"owner": "lakeside_so", "requesting_agency": "rivertown_pd"}))
	d.fields == ["coarse_date", "record_type"]
}

# --- each deny reason ---

test_unknown_agreement_is_denied if {
	denied_for(["agreement_unknown"], decide(object.union(request, {"agreement": "harbor-pilot"})))
}

test_no_agreements_loaded_is_denied if {
	d := pointer.decision with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.requesting_agency as "lakeside_so"
		with input.owner as "rivertown_pd"
		with input.now as "2026-11-23"
	denied_for(["agreement_unknown"], d)
}

test_agreement_not_yet_valid_is_denied if {
	denied_for(["agreement_not_yet_valid"], decide(object.union(request, {"now": "2025-12-31"})))
}

test_expired_agreement_is_denied if {
	denied_for(["agreement_expired"], decide(object.union(request, {"now": "2028-01-01"})))
}

test_owner_outside_agreement_is_denied if {
	denied_for(["owner_not_member"], decide(object.union(request, {"owner": "harbor_pd"})))
}

test_requester_outside_agreement_is_denied if {
	denied_for(["requester_not_member"], decide(object.union(request, {"requesting_agency": "harbor_pd"})))
}

test_purpose_outside_agreement_is_denied if {
	denied_for(
		["purpose_not_allowed_for_requester", "purpose_not_in_agreement", "purpose_not_shared_by_owner"],
		decide(object.union(request, {"purpose": "fraud"})),
	)
}

test_purpose_the_owner_does_not_share_for_is_denied if {
	# Rivertown PD asks the tip line about violent crime: Rivertown PD takes
	# part in that purpose, the tip line does not share for it.
	denied_for(
		["purpose_not_shared_by_owner"],
		decide(object.union(request, {"purpose": "violent_crime", "requesting_agency": "rivertown_pd", "owner": "tip_hotline"})),
	)
}

test_purpose_the_requester_does_not_take_part_in_is_denied if {
	denied_for(
		["purpose_not_allowed_for_requester"],
		decide(object.union(request, {"purpose": "missing_person", "owner": "tip_hotline"})),
	)
}

test_own_agency_is_denied if {
	denied_for(["own_agency"], decide(object.union(request, {"requesting_agency": "rivertown_pd"})))
}

# --- missing input fails closed ---

test_empty_input_is_denied if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
	denied_for(["agreement_unknown"], d)
}

test_missing_purpose_is_denied if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.requesting_agency as "lakeside_so"
		with input.owner as "rivertown_pd"
		with input.now as "2026-11-23"
	denied_for(["purpose_not_allowed_for_requester", "purpose_not_in_agreement", "purpose_not_shared_by_owner"], d)
}

test_missing_owner_and_requester_are_denied if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.now as "2026-11-23"
	denied_for(["owner_not_member", "requester_not_member"], d)
}

test_missing_now_is_denied if {
	fixture := agreements
	d := pointer.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.requesting_agency as "lakeside_so"
		with input.owner as "rivertown_pd"
	denied_for(["agreement_expired", "agreement_not_yet_valid"], d)
}

# --- what a sweep may follow ---

pilot := agreements["local-pilot"]

rivertown_pivoting := object.union(pilot.members.rivertown_pd, {
	# "ssn" is not a pivot kind: it must never be followed.
	"pivot_on": ["phone", "plate", "ssn"],
	"release": {"withhold": [
		{"fields": ["phones"], "roles": ["victim"], "unless_purposes": ["victim_services"]},
		{"fields": ["dobs"], "roles": ["witness"], "unless_purposes": []},
	]},
})

# Built one level at a time (regopy's object.union does not merge nested objects).
pivoting := {"local-pilot": object.union(pilot, {"members": object.union(pilot.members, {"rivertown_pd": rivertown_pivoting})})}

decide_pivoting(purpose) := d if {
	fixture := pivoting
	d := pointer.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as purpose
		with input.requesting_agency as "lakeside_so"
		with input.owner as "rivertown_pd"
		with input.now as "2026-11-23"
}

test_a_sweep_follows_only_the_known_kinds_the_owner_lists if {
	decide_pivoting("human_trafficking").pivot_kinds == ["phone", "plate"]
}

test_a_member_that_lists_no_pivot_kinds_is_never_swept if {
	decide(request).pivot_kinds == []
}

test_a_sweep_never_follows_what_a_release_would_withhold if {
	decide_pivoting("human_trafficking").pivot_withhold == [
		{"fields": ["phones"], "roles": ["victim"]},
		{"fields": ["dobs"], "roles": ["witness"]},
	]
	decide_pivoting("victim_services").pivot_withhold == [{"fields": ["dobs"], "roles": ["witness"]}]
}

test_a_denied_pointer_decision_allows_no_pivots if {
	d := decide_pivoting("victim_services_typo")
	not d.allow
	d.pivot_kinds == []
}
