# Which of its indexed records may the owning node show pointers to, and what may
# a pointer carry? (decided at the owning node, before it answers a search)
#
# Input:  {"agreement", "purpose", "requesting_agency", "owner", "now"}
# Data:   data.agreements, and data.local (optional): the node's own rules,
#         {"agency", "exclude_labels", "record_types_withheld"}, which can only
#         tighten what the agreement allows, and apply only when local.agency
#         is the owner.
# Output: decision = {"allow", "reasons", "record_types", "exclude_labels", "fields",
#                     "pivot_kinds", "pivot_withhold"}
#         pivot_kinds: which identifiers of its records a sweep may follow
#         (the owner's pivot_on; none unless allowed); pivot_withhold: the
#         release withholding rules that apply to this purpose, so a sweep never
#         follows an identifier a release would withhold.
#
# Fail closed: allow is false by default; when it is false, record_types and
# fields are empty, so a caller that ignores allow still shows nothing.
# "sealed" is always excluded, whatever the agreement or local rules say.
#
# Conditions are positive rules negated only as a whole (see search.rego for why).
package accord.pointer

import rego.v1

default allow := false

allow if {
	agreement_known
	count(reasons) == 0
}

decision := {
	"allow": allow,
	"reasons": sort([reason | some reason in reasons]),
	"record_types": record_types,
	"exclude_labels": exclude_labels,
	"fields": fields,
	"pivot_kinds": pivot_kinds,
	"pivot_withhold": pivot_withhold,
}

agreement := data.agreements[input.agreement]

owner := agreement.members[input.owner]

requester := agreement.members[input.requesting_agency]

# --- what a pointer may reveal ---

# The only things a pointer can ever carry; an agreement cannot add others.
pointer_field_names := {"record_type", "coarse_date", "matched"}

always_excluded := {"sealed"}

local_rules_apply if {
	is_string(input.owner)
	data.local.agency == input.owner
}

local_withheld_types := {t | local_rules_apply; some t in data.local.record_types_withheld}

local_excluded_labels := {l | local_rules_apply; some l in data.local.exclude_labels}

owner_types := {t | some t in owner.shares.record_types}

owner_excluded_labels := {l | some l in owner.shares.exclude_labels}

default record_types := []

record_types := to_sorted(owner_types - local_withheld_types) if allow

exclude_labels := to_sorted((owner_excluded_labels | local_excluded_labels) | always_excluded)

default fields := []

fields := to_sorted({f | some f in owner.pointer_fields} & pointer_field_names) if allow

to_sorted(values) := sort([value | some value in values])

# --- what a sweep may follow ---

pivot_kind_names := {"person", "phone", "email", "address", "plate", "vin"}

default pivot_kinds := []

pivot_kinds := to_sorted({k | some k in owner.pivot_on} & pivot_kind_names) if allow

pivot_withhold := [{"fields": rule.fields, "roles": rule.roles} |
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

owner_is_member if is_object(owner)

requester_is_member if is_object(requester)

purpose_in_agreement if input.purpose in agreement.purposes

purpose_shared_by_owner if input.purpose in owner.purposes

purpose_allowed_for_requester if input.purpose in requester.purposes

same_agency if input.owner == input.requesting_agency

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

reasons contains "owner_not_member" if {
	agreement_known
	not owner_is_member
}

reasons contains "requester_not_member" if {
	agreement_known
	not requester_is_member
}

reasons contains "purpose_not_in_agreement" if {
	agreement_known
	not purpose_in_agreement
}

reasons contains "purpose_not_shared_by_owner" if {
	owner_is_member
	not purpose_shared_by_owner
}

reasons contains "purpose_not_allowed_for_requester" if {
	requester_is_member
	not purpose_allowed_for_requester
}

# A node never answers its own agency's search through the hub.
reasons contains "own_agency" if same_agency
