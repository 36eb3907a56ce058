# Which nodes, and which of their record types, does a search reach? (decided at the hub)
#
# Input:  {"agreement", "purpose", "requesting_agency", "now"}
# Output: decision = {"nodes": {agency: {"record_types": [sorted], "exclude_labels": [sorted]}}}
#
# A node is in scope when it is a member other than the requester, takes part in
# the purpose, and shares at least one record type. Fail closed: the scope is
# empty ({}) unless the agreement is known and in force on input.now, the purpose
# is one of the agreement's, and the requester is a member taking part in that
# purpose; so a malformed request reaches no node. The search decision checks
# the same things first and says why; this rule only makes sure a scope is never
# computed for a request it would deny.
#
# Conditions are positive rules negated only as a whole (see search.rego for why).
package accord.scope

import rego.v1

decision := {"nodes": nodes}

agreement := data.agreements[input.agreement]

requester := agreement.members[input.requesting_agency]

request_in_force if {
	is_object(agreement)
	is_string(input.now)
	input.now >= agreement.valid_from
	input.now <= agreement.valid_until
	input.purpose in agreement.purposes
	input.purpose in requester.purposes
}

# "sealed" is never exposed, whatever an agreement says.
always_excluded := {"sealed"}

nodes[agency] := scope if {
	request_in_force
	some agency, member in agreement.members
	agency != input.requesting_agency
	input.purpose in member.purposes
	count(member.shares.record_types) > 0
	scope := {
		"record_types": sorted_unique(member.shares.record_types),
		"exclude_labels": sorted_unique(array.concat(
			object.get(member.shares, "exclude_labels", []),
			[label | some label in always_excluded],
		)),
	}
}

# Arrays of strings, deduplicated and sorted. (regopy 1.5.2 returns a *set* from
# sort(set), unlike OPA, so sets are turned into arrays before sorting.)
sorted_unique(values) := sort([value | some value in {v | some v in values}])
