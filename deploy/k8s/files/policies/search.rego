# May this investigator search under this agreement, for this purpose? (decided at the hub)
#
# Input:  {"agreement", "purpose", "case_number", "now", "principal": {"subject", "agency", "roles"}}
# Output: decision = {"allow": bool, "reasons": [sorted reason codes],
#                     "max_depth": how deep the search may sweep (1: no sweep),
#                     "deconfliction": {"window_days", "contact"} or {} when the
#                     agreement has no deconfliction or the member names no contact}
#
# Fail closed: allow is false by default and becomes true only when the agreement
# exists and no reason to deny holds. A missing or malformed input field makes a
# condition below undefined, which produces a deny reason, never an allow.
#
# Every condition is written positively as its own rule and negated only as a
# whole rule (`not purpose_in_agreement`). Never write `not input.x in xs` or
# `not f(input.x)`: OPA rewrites them to `t := input.x; not f(t)`, which is
# undefined (so no deny reason!) when input.x is missing.
package accord.search

import rego.v1

default allow := false

allow if {
	agreement_known
	count(reasons) == 0
}

decision := {
	"allow": allow,
	"reasons": sort([reason | some reason in reasons]),
	"max_depth": max_depth,
	"deconfliction": deconfliction,
}

agreement := data.agreements[input.agreement]

member := agreement.members[input.principal.agency]

# --- sweeps and deconfliction (only for an allowed search) ---

default max_depth := 1

max_depth := agreement.sweeps.max_depth if {
	allow
	is_number(agreement.sweeps.max_depth)
	agreement.sweeps.max_depth >= 1
}

default deconfliction := {}

deconfliction := {"window_days": agreement.deconfliction.window_days, "contact": member.deconfliction_contact} if {
	allow
	is_number(agreement.deconfliction.window_days)
	agreement.deconfliction.window_days > 0
	is_string(member.deconfliction_contact)
	member.deconfliction_contact != ""
}

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

purpose_in_agreement if input.purpose in agreement.purposes

purpose_allowed_for_member if input.purpose in member.purposes

role_may_search if {
	is_array(input.principal.roles)
	some role in input.principal.roles
	role in member.search_roles
}

case_number_given if {
	is_string(input.case_number)
	trim_space(input.case_number) != ""
}

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

reasons contains "purpose_not_in_agreement" if {
	agreement_known
	not purpose_in_agreement
}

reasons contains "purpose_not_allowed_for_member" if {
	agency_is_member
	not purpose_allowed_for_member
}

reasons contains "role_not_allowed_to_search" if {
	agency_is_member
	not role_may_search
}

reasons contains "case_number_missing" if not case_number_given
