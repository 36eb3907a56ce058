# Tests for accord.search. Run: python -m accord.policy.regotest policies/
# (or `opa test policies/`).
#
# Two regopy 1.5.2 rules shape every test here (see policies/README.md):
# - input is set field by field (`with input.purpose as ...`), never whole
#   (`with input as {...}` crashes regopy);
# - the value after `as` is a literal or a local variable, never a rule of this
#   package (`as agreements` is silently ignored, `as request.purpose` crashes),
#   hence `fixture := agreements` before `with data.agreements as fixture`.
package accord.search_test

import rego.v1

import data.accord.search

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
			"shares": {"record_types": ["cad_call", "rms_incident"], "exclude_labels": ["sealed", "juvenile"]},
			"pointer_fields": ["record_type", "coarse_date", "matched"],
		},
		"lakeside_so": {
			"name": "Lakeside County Sheriff's Office",
			"purposes": ["human_trafficking", "violent_crime"],
			"search_roles": ["investigator", "supervisor"],
			"release_roles": ["investigator"],
			"shares": {"record_types": ["rms_incident", "jail_booking"], "exclude_labels": ["juvenile"]},
			"pointer_fields": ["record_type", "coarse_date"],
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

# A search that every test below starts from: it is allowed.
request := {
	"agreement": "local-pilot",
	"purpose": "human_trafficking",
	"case_number": "LS-2026-0142",
	"now": "2026-11-23",
	"principal": {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]},
}

# The decision for a request that has every input field.
decide(req) := d if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.case_number as req.case_number
		with input.now as req.now
		with input.principal as req.principal
}

with_principal(changes) := object.union(request, {"principal": object.union(request.principal, changes)})

denied_for(reasons, d) if d == {"allow": false, "reasons": reasons, "max_depth": 1, "deconfliction": {}}

allowed := {"allow": true, "reasons": [], "max_depth": 1, "deconfliction": {}}

# --- allow ---

test_investigator_of_member_may_search if {
	decide(request) == allowed
}

test_any_listed_role_may_search if {
	decide(with_principal({"roles": ["analyst", "supervisor"]})) == allowed
}

test_agreement_is_valid_on_its_first_and_last_day if {
	decide(object.union(request, {"now": "2026-01-01"})).allow
	decide(object.union(request, {"now": "2027-12-31"})).allow
}

# --- each deny reason ---

test_unknown_agreement_is_denied if {
	denied_for(["agreement_unknown"], decide(object.union(request, {"agreement": "harbor-pilot"})))
}

test_no_agreements_loaded_is_denied if {
	d := search.decision with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	denied_for(["agreement_unknown"], d)
}

test_agreement_not_yet_valid_is_denied if {
	denied_for(["agreement_not_yet_valid"], decide(object.union(request, {"now": "2025-12-31"})))
}

test_expired_agreement_is_denied if {
	denied_for(["agreement_expired"], decide(object.union(request, {"now": "2028-01-01"})))
}

test_agency_outside_agreement_is_denied if {
	denied_for(["agency_not_member"], decide(with_principal({"agency": "harbor_pd"})))
}

test_purpose_outside_agreement_is_denied if {
	denied_for(
		["purpose_not_allowed_for_member", "purpose_not_in_agreement"],
		decide(object.union(request, {"purpose": "fraud"})),
	)
}

test_purpose_the_member_does_not_take_part_in_is_denied if {
	# missing_person is in the agreement, but the sheriff's office did not sign up for it.
	denied_for(["purpose_not_allowed_for_member"], decide(object.union(request, {"purpose": "missing_person"})))
}

test_role_not_allowed_to_search_is_denied if {
	denied_for(["role_not_allowed_to_search"], decide(with_principal({"roles": ["analyst"]})))
}

test_member_that_does_not_search_is_denied if {
	# The tip line shares its tips but lists no role that may search.
	denied_for(["role_not_allowed_to_search"], decide(with_principal({"agency": "tip_hotline"})))
}

test_empty_case_number_is_denied if {
	denied_for(["case_number_missing"], decide(object.union(request, {"case_number": ""})))
	denied_for(["case_number_missing"], decide(object.union(request, {"case_number": "   "})))
}

test_several_reasons_are_all_given_sorted if {
	d := decide({
		"agreement": "local-pilot",
		"purpose": "missing_person",
		"case_number": "",
		"now": "2028-03-01",
		"principal": {"subject": "clerk.b", "agency": "lakeside_so", "roles": ["records_clerk"]},
	})
	denied_for(
		[
			"agreement_expired", "case_number_missing",
			"purpose_not_allowed_for_member", "role_not_allowed_to_search",
		],
		d,
	)
}

# --- missing or malformed input fails closed ---

test_empty_input_is_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
	denied_for(["agreement_unknown", "case_number_missing"], d)
}

test_missing_case_number_is_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	denied_for(["case_number_missing"], d)
}

test_missing_purpose_is_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.case_number as "LS-2026-0142"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	denied_for(["purpose_not_allowed_for_member", "purpose_not_in_agreement"], d)
}

test_missing_now_is_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	denied_for(["agreement_expired", "agreement_not_yet_valid"], d)
}

test_missing_principal_is_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.now as "2026-11-23"
	denied_for(["agency_not_member"], d)
}

test_missing_roles_are_denied if {
	fixture := agreements
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so"}
	denied_for(["role_not_allowed_to_search"], d)
}

test_roles_must_be_a_list if {
	# A role given as a bare string is not read as a list of roles.
	denied_for(["role_not_allowed_to_search"], decide(with_principal({"roles": "investigator"})))
}

test_now_must_be_a_string if {
	denied_for(
		["agreement_expired", "agreement_not_yet_valid"],
		decide(object.union(request, {"now": 20261123})),
	)
}

# --- sweeps and deconfliction ---

# Built one level at a time: regopy's object.union does not merge nested
# objects (OPA's does), so a nested union would drop the other members.
pilot := agreements["local-pilot"]

lakeside_with_contact := object.union(pilot.members.lakeside_so, {"deconfliction_contact": "Lakeside SO desk, 503-555-0100"})

sweeping := {"local-pilot": object.union(pilot, {
	"sweeps": {"max_depth": 2},
	"deconfliction": {"window_days": 30},
	"members": object.union(pilot.members, {"lakeside_so": lakeside_with_contact}),
})}

test_max_depth_comes_from_the_agreement if {
	fixture := sweeping
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-1"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	d.allow
	d.max_depth == 2
	d.deconfliction == {"window_days": 30, "contact": "Lakeside SO desk, 503-555-0100"}
}

test_a_denied_search_gets_no_depth_and_no_deconfliction if {
	fixture := sweeping
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
	denied_for(["case_number_missing"], d)
}

test_a_member_without_a_contact_takes_no_part_in_deconfliction if {
	fixture := sweeping
	d := search.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "RT-1"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.ng", "agency": "rivertown_pd", "roles": ["investigator"]}
	d.allow
	d.max_depth == 2
	d.deconfliction == {}
}
