# Tests for accord.release. Run: python -m accord.policy.regotest policies/
# Input is set field by field and fixtures are bound to a local before `with`:
# see search_test.rego and policies/README.md for the regopy 1.5.2 reasons.
package accord.release_test

import rego.v1

import data.accord.release

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
			"shares": {"record_types": ["cad_call", "rms_incident", "warrant"], "exclude_labels": ["sealed", "juvenile"]},
			"pointer_fields": ["record_type", "coarse_date", "matched"],
			"release": {
				"case_required": true,
				"justification_required": true,
				"approval": {"record_types": [], "labels": ["confidential_source"]},
				"withhold": [{"fields": ["phones", "addresses", "emails"], "roles": ["victim"], "unless_purposes": ["victim_services"]}],
			},
		},
		"lakeside_so": {
			"name": "Lakeside County Sheriff's Office",
			"purposes": ["human_trafficking", "violent_crime"],
			"search_roles": ["investigator", "supervisor"],
			"release_roles": ["investigator"],
			"shares": {"record_types": ["rms_incident", "jail_booking"], "exclude_labels": ["juvenile"]},
			"pointer_fields": ["record_type", "coarse_date"],
			"release": {
				"case_required": true,
				"justification_required": true,
				"approval": {"record_types": [], "labels": []},
				"withhold": [],
			},
		},
		"tip_hotline": {
			"name": "Regional trafficking tip line",
			"purposes": ["human_trafficking", "missing_person", "victim_services"],
			"search_roles": [],
			"release_roles": [],
			"shares": {"record_types": ["hotline_tip"], "exclude_labels": []},
			"pointer_fields": ["record_type", "matched"],
			"release": {
				"case_required": true,
				"justification_required": true,
				"approval": {"record_types": ["hotline_tip"], "labels": ["confidential_source"]},
				"withhold": [
					{"fields": ["phones", "addresses", "emails"], "roles": ["victim"], "unless_purposes": ["victim_services"]},
					{"fields": ["name", "phones"], "roles": ["reporter"], "unless_purposes": []},
				],
			},
		},
		"county_victim_services": {
			"name": "County Victim Services",
			"purposes": ["victim_services", "human_trafficking"],
			"search_roles": ["advocate"],
			"release_roles": ["advocate"],
			"shares": {"record_types": ["case_note"], "exclude_labels": []},
			"pointer_fields": ["record_type"],
			"release": {
				# Advocates may release without a case number, never without a reason.
				"case_required": false,
				"justification_required": true,
				"approval": {"record_types": [], "labels": []},
				"withhold": [],
			},
		},
	},
}}

# A detective at the sheriff's office asks Rivertown PD for an incident report.
request := {
	"agreement": "local-pilot",
	"purpose": "human_trafficking",
	"case_number": "LS-2026-0142",
	"justification": "Same phone number as the victim in LS-2026-0142",
	"now": "2026-11-23",
	"principal": {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]},
	"owner": "rivertown_pd",
	"record": {"record_type": "rms_incident", "labels": ["victim"]},
	"approval": "none",
}

# The same detective asks the tip line for a tip, which needs the tip line's approval.
tip_request := object.union(request, {
	"owner": "tip_hotline",
	"record": {"record_type": "hotline_tip", "labels": ["victim", "reporter"]},
	"approval": "approved",
})

rivertown_rules := {"agency": "rivertown_pd", "exclude_labels": ["informant"], "record_types_withheld": ["warrant"]}

decide(req) := d if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.case_number as req.case_number
		with input.justification as req.justification
		with input.now as req.now
		with input.principal as req.principal
		with input.owner as req.owner
		with input.record as req.record
		with input.approval as req.approval
}

decide_at_node(req, local) := d if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
		with data.local as local
		with input.agreement as req.agreement
		with input.purpose as req.purpose
		with input.case_number as req.case_number
		with input.justification as req.justification
		with input.now as req.now
		with input.principal as req.principal
		with input.owner as req.owner
		with input.record as req.record
		with input.approval as req.approval
}

with_principal(req, changes) := object.union(req, {"principal": object.union(req.principal, changes)})

denied_for(reasons, d) if {
	d.allow == false
	d.reasons == reasons
}

victim_contacts := {"fields": ["phones", "addresses", "emails"], "roles": ["victim"]}

reporter_identity := {"fields": ["name", "phones"], "roles": ["reporter"]}

# --- allow, approval and withholding ---

test_release_of_shared_record_is_allowed_with_victim_contacts_withheld if {
	decide(request) == {"allow": true, "reasons": [], "needs_approval": false, "withhold": [victim_contacts]}
}

test_approved_tip_is_released_with_its_withholding_rules if {
	decide(tip_request) == {
		"allow": true,
		"reasons": [],
		"needs_approval": true,
		"withhold": [victim_contacts, reporter_identity],
	}
}

test_withholding_rule_does_not_apply_to_its_exempt_purpose if {
	# Victim services may see victims' contact details; never the reporter's identity.
	d := decide(with_principal(
		object.union(tip_request, {"purpose": "victim_services"}),
		{"subject": "adv.chen", "agency": "county_victim_services", "roles": ["advocate"]},
	))
	d.allow
	d.withhold == [reporter_identity]
}

test_withholding_applies_when_the_purpose_is_missing if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.owner as "tip_hotline"
	d.allow == false
	d.withhold == [victim_contacts, reporter_identity]
}

test_approval_needed_for_a_label if {
	record := {"record_type": "rms_incident", "labels": ["confidential_source"]}
	d := decide(object.union(request, {"record": record, "approval": "approved"}))
	d.allow
	d.needs_approval
}

test_case_number_optional_when_owner_says_so if {
	d := decide(object.union(
		with_principal(request, {"subject": "det.alvarez", "agency": "lakeside_so"}),
		{"owner": "county_victim_services", "record": {"record_type": "case_note", "labels": []}, "case_number": ""},
	))
	d == {"allow": true, "reasons": [], "needs_approval": false, "withhold": []}
}

# --- each deny reason ---

test_unknown_agreement_is_denied if {
	denied_for(["agreement_unknown"], decide(object.union(request, {"agreement": "harbor-pilot"})))
}

test_no_agreements_loaded_is_denied if {
	d := release.decision with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.justification as "Same phone number as the victim"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
		with input.owner as "rivertown_pd"
		with input.record as {"record_type": "rms_incident", "labels": []}
		with input.approval as "none"
	denied_for(["agreement_unknown"], d)
}

test_agreement_not_yet_valid_is_denied if {
	denied_for(["agreement_not_yet_valid"], decide(object.union(request, {"now": "2025-12-31"})))
}

test_expired_agreement_is_denied if {
	denied_for(["agreement_expired"], decide(object.union(request, {"now": "2028-01-01"})))
}

test_agency_outside_agreement_is_denied if {
	denied_for(["agency_not_member"], decide(with_principal(request, {"agency": "harbor_pd"})))
}

test_owner_outside_agreement_is_denied if {
	denied_for(["owner_not_member"], decide(object.union(request, {"owner": "harbor_pd"})))
}

test_purpose_outside_agreement_is_denied if {
	denied_for(
		["purpose_not_allowed_for_member", "purpose_not_in_agreement", "purpose_not_shared_by_owner"],
		decide(object.union(request, {"purpose": "fraud"})),
	)
}

test_purpose_the_requester_does_not_take_part_in_is_denied if {
	denied_for(["purpose_not_allowed_for_member"], decide(object.union(request, {"purpose": "missing_person"})))
}

test_purpose_the_owner_does_not_share_for_is_denied if {
	denied_for(
		["purpose_not_shared_by_owner"],
		decide(object.union(tip_request, {"purpose": "violent_crime"})),
	)
}

test_role_not_allowed_to_release_is_denied if {
	# A supervisor may search at the sheriff's office but not ask for releases.
	denied_for(["role_not_allowed_to_release"], decide(with_principal(request, {"roles": ["supervisor"]})))
}

test_missing_case_number_is_denied if {
	denied_for(["case_number_missing"], decide(object.union(request, {"case_number": " "})))
}

test_missing_justification_is_denied if {
	denied_for(["justification_missing"], decide(object.union(request, {"justification": ""})))
}

test_record_type_not_shared_is_denied if {
	record := {"record_type": "jail_booking", "labels": []}
	denied_for(["record_type_not_shared"], decide(object.union(request, {"record": record})))
}

test_record_type_withheld_by_the_node_is_denied if {
	record := {"record_type": "warrant", "labels": []}
	decide(object.union(request, {"record": record})).allow
	denied_for(["record_type_not_shared"], decide_at_node(object.union(request, {"record": record}), rivertown_rules))
}

test_record_with_excluded_label_is_denied if {
	record := {"record_type": "rms_incident", "labels": ["victim", "juvenile"]}
	denied_for(["record_label_excluded"], decide(object.union(request, {"record": record})))
}

test_sealed_record_is_denied_whatever_the_agreement_says if {
	# The tip line excludes no label, but sealed records are never released.
	record := {"record_type": "hotline_tip", "labels": ["sealed"]}
	denied_for(["record_label_excluded"], decide(object.union(tip_request, {"record": record})))
}

test_record_with_label_excluded_by_the_node_is_denied if {
	record := {"record_type": "rms_incident", "labels": ["informant"]}
	decide(object.union(request, {"record": record})).allow
	denied_for(["record_label_excluded"], decide_at_node(object.union(request, {"record": record}), rivertown_rules))
}

test_record_without_labels_is_denied if {
	# Without labels we cannot show that none is excluded.
	# (object.remove first: OPA's object.union merges nested objects, so it
	# would keep the old labels; regopy's does not.)
	without_labels := object.union(object.remove(request, ["record"]), {"record": {"record_type": "rms_incident"}})
	denied_for(["record_label_excluded"], decide(without_labels))
}

test_pending_approval_is_denied if {
	d := decide(object.union(tip_request, {"approval": "pending"}))
	denied_for(["approval_required"], d)
	d.needs_approval
}

test_no_approval_asked_is_denied if {
	denied_for(["approval_required"], decide(object.union(tip_request, {"approval": "none"})))
}

test_denied_approval_is_denied if {
	denied_for(["approval_denied", "approval_required"], decide(object.union(tip_request, {"approval": "denied"})))
}

# --- missing input fails closed ---

test_empty_input_is_denied if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
	d == {
		"allow": false,
		"reasons": ["agreement_unknown", "case_number_missing", "justification_missing", "record_label_excluded"],
		"needs_approval": false,
		"withhold": [],
	}
}

test_missing_approval_is_denied_when_approval_is_needed if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.justification as "Same phone number as the victim"
		with input.now as "2026-11-23"
		with input.principal as {"subject": "det.alvarez", "agency": "lakeside_so", "roles": ["investigator"]}
		with input.owner as "tip_hotline"
		with input.record as {"record_type": "hotline_tip", "labels": []}
	denied_for(["approval_required"], d)
}

test_missing_principal_is_denied if {
	fixture := agreements
	d := release.decision with data.agreements as fixture
		with input.agreement as "local-pilot"
		with input.purpose as "human_trafficking"
		with input.case_number as "LS-2026-0142"
		with input.justification as "Same phone number as the victim"
		with input.now as "2026-11-23"
		with input.owner as "rivertown_pd"
		with input.record as {"record_type": "rms_incident", "labels": []}
		with input.approval as "none"
	denied_for(["agency_not_member"], d)
}
