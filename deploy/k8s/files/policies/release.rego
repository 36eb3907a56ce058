# May this record be released to this investigator, and which fields must be
# withheld? (decided at the hub and, independently, at the owning node)
#
# Input:  {"agreement", "purpose", "case_number", "justification", "now",
#          "principal": {"subject", "agency", "roles"}, "owner",
#          "record": {"record_type", "labels"},
#          "approval": "none" | "pending" | "approved" | "denied"}
# Data:   data.agreements, and data.local (optional, at the node; see pointer.rego)
# Output: decision = {"allow", "reasons", "needs_approval", "withhold": [{"fields", "roles"}]}
#
# Fail closed: allow is false by default and true only when the agreement is
# known and no reason to deny holds. A case number and a justification are
# required unless the owner's agreement terms say `false` explicitly; a record
# whose labels are missing counts as carrying an excluded label (we cannot show
# it does not); "sealed" is always excluded. Withholding rules apply unless the
# purpose is positively one of their exemptions, so a missing purpose withholds.
#
# Conditions are positive rules negated only as a whole (see search.rego for why).
package accord.release

import rego.v1

default allow := false

allow if {
	agreement_known
	count(reasons) == 0
}

decision := {
	"allow": allow,
	"reasons": sort([reason | some reason in reasons]),
	"needs_approval": needs_approval,
	"withhold": withhold,
}

agreement := data.agreements[input.agreement]

# The requesting investigator's agency, and the agency that holds the record.
member := agreement.members[input.principal.agency]

owner := agreement.members[input.owner]

always_excluded := {"sealed"}

local_rules_apply if {
	is_string(input.owner)
	data.local.agency == input.owner
}

# --- approval and withholding ---

default needs_approval := false

needs_approval if input.record.record_type in owner.release.approval.record_types

needs_approval if {
	some label in input.record.labels
	label in owner.release.approval.labels
}

withhold := [{"fields": rule.fields, "roles": rule.roles} |
	some rule in owner.release.withhold
	not exempt_from(rule)
]

exempt_from(rule) if input.purpose in rule.unless_purposes

# --- conditions, each stated positively ---

agreement_known if is_object(agreement)

agreement_started if {
	is_string(input.now)
	input.now >= agreement.valid_from
}

agreement_not_ended if {
	is_string(input.now)
	input.now <= agreement.valid_until
}

agency_is_member if is_object(member)

owner_is_member if is_object(owner)

purpose_in_agreement if input.purpose in agreement.purposes

purpose_allowed_for_member if input.purpose in member.purposes

purpose_shared_by_owner if input.purpose in owner.purposes

role_may_release if {
	is_array(input.principal.roles)
	some role in input.principal.roles
	role in member.release_roles
}

case_number_optional if owner.release.case_required == false

case_number_given if {
	is_string(input.case_number)
	trim_space(input.case_number) != ""
}

justification_optional if owner.release.justification_required == false

justification_given if {
	is_string(input.justification)
	trim_space(input.justification) != ""
}

record_type_shared if {
	input.record.record_type in owner.shares.record_types
	not record_type_withheld_locally
}

record_type_withheld_locally if {
	local_rules_apply
	input.record.record_type in data.local.record_types_withheld
}

record_labels_known if is_array(input.record.labels)

carries_excluded_label if {
	some label in input.record.labels
	label in excluded_labels
}

excluded_labels contains label if some label in owner.shares.exclude_labels

excluded_labels contains label if {
	local_rules_apply
	some label in data.local.exclude_labels
}

excluded_labels contains label if some label in always_excluded

approval_granted if input.approval == "approved"

approval_refused if input.approval == "denied"

# --- deny reasons ---

reasons contains "agreement_unknown" if not agreement_known

reasons contains "agreement_not_yet_valid" if {
	agreement_known
	not agreement_started
}

reasons contains "agreement_expired" if {
	agreement_known
	not agreement_not_ended
}

reasons contains "agency_not_member" if {
	agreement_known
	not agency_is_member
}

reasons contains "owner_not_member" if {
	agreement_known
	not owner_is_member
}

reasons contains "purpose_not_in_agreement" if {
	agreement_known
	not purpose_in_agreement
}

reasons contains "purpose_not_allowed_for_member" if {
	agency_is_member
	not purpose_allowed_for_member
}

reasons contains "purpose_not_shared_by_owner" if {
	owner_is_member
	not purpose_shared_by_owner
}

reasons contains "role_not_allowed_to_release" if {
	agency_is_member
	not role_may_release
}

reasons contains "case_number_missing" if {
	not case_number_optional
	not case_number_given
}

reasons contains "justification_missing" if {
	not justification_optional
	not justification_given
}

reasons contains "record_type_not_shared" if {
	owner_is_member
	not record_type_shared
}

reasons contains "record_label_excluded" if not record_labels_known

reasons contains "record_label_excluded" if carries_excluded_label

reasons contains "approval_required" if {
	needs_approval
	not approval_granted
}

reasons contains "approval_denied" if approval_refused
