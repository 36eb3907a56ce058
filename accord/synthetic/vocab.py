"""Words for the non-identifying parts of generated records.

Call types, offenses, narratives and places: enough variety that records do
not look copied, no more. Narratives never contain line breaks, so one record
is always one line of its file (bad-row line numbers rely on that).
"""

from __future__ import annotations

#: CAD call types with a narrative template each; ``{place}`` is filled in.
CALL_TYPES: tuple[tuple[str, str], ...] = (
    ("DISTURBANCE", "RP reports loud argument at {place}, unknown if physical"),
    ("SUSPICIOUS PERSON", "RP reports subject looking into vehicles near {place}"),
    ("WELFARE CHECK", "RP requests check on subject, not answering phone, last seen {place}"),
    ("THEFT", "RP reports bicycle taken from rack at {place}"),
    ("TRESPASS", "Subject refusing to leave {place} after being asked by staff"),
    ("NOISE COMPLAINT", "Music and shouting from {place}, ongoing 2 hrs"),
    ("DOMESTIC", "RP hears yelling and a crash from neighboring unit at {place}"),
    ("TRAFFIC HAZARD", "Vehicle stalled in lane near {place}, occupant on scene"),
    ("ASSAULT", "RP states subject pushed RP to ground at {place}, minor injury"),
    ("HIT AND RUN", "RP's parked car struck at {place}, other party left"),
    ("FOUND PROPERTY", "RP found wallet at {place}, will hold for officer"),
    ("VANDALISM", "Fresh graffiti on wall at {place}, RP is property manager"),
)

CAD_PRIORITIES: tuple[str, ...] = ("1", "2", "2", "3", "3", "3", "4")

#: RMS offenses: (short code used by one system, description).
OFFENSES: tuple[tuple[str, str], ...] = (
    ("BURG", "Burglary - residential"),
    ("THEFT", "Theft from motor vehicle"),
    ("ASLT4", "Assault IV"),
    ("CRMIS", "Criminal mischief II"),
    ("ROBB", "Robbery II"),
    ("UUV", "Unauthorized use of a vehicle"),
    ("FRAUD", "Identity theft"),
    ("DRUG", "Possession of a controlled substance"),
    ("HARASS", "Harassment"),
    ("MENACE", "Menacing"),
    ("DUII", "Driving under the influence"),
    ("TRESP", "Criminal trespass II"),
)

#: Short incident synopses; ``{offense}`` and ``{place}`` are filled in.
SYNOPSES: tuple[str, ...] = (
    "{offense} reported at {place}. Statements taken, report to follow.",
    "Officers responded to {place} for {offense}. Involved parties identified.",
    "{offense} at {place}. Victim declined medical. Case referred to detectives.",
    "Follow-up on {offense} near {place}. Witness canvass completed.",
    "{offense}; suspect left {place} before arrival. Area check negative.",
)

FI_REASONS: tuple[str, ...] = (
    "Loitering near closed business",
    "Matched description from earlier call",
    "Consensual contact, parked in lot after hours",
    "Traffic stop, passenger contact",
    "Walking in roadway",
    "Knock and talk follow-up",
    "Seen leaving area of reported prowler",
)

CHARGES: tuple[tuple[str, str], ...] = (
    ("ORS 164.225", "Burglary I"),
    ("ORS 164.043", "Theft III"),
    ("ORS 163.160", "Assault IV"),
    ("ORS 813.010", "DUII"),
    ("ORS 475.894", "Possession of methamphetamine"),
    ("ORS 162.247", "Interfering with a peace officer"),
    ("ORS 166.025", "Disorderly conduct II"),
    ("ORS 164.354", "Criminal mischief II"),
    ("ORS 163.190", "Menacing"),
    ("ORS 811.182", "Driving while suspended"),
)

WARRANT_OFFENSES: tuple[str, ...] = (
    "Failure to appear - Theft III",
    "Probation violation",
    "Failure to appear - DWS",
    "Assault IV (bench warrant)",
    "Contempt of court",
    "Parole violation",
    "Failure to appear - Criminal trespass",
)

COURTS: tuple[str, ...] = (
    "Harbor County Circuit Court",
    "Harbor City Municipal Court",
    "Lake County Circuit Court",
)

WARRANT_STATUSES: tuple[str, ...] = ("ACTIVE", "ACTIVE", "ACTIVE", "SERVED", "RECALLED")

HARBOR_INCIDENT_TYPES: tuple[str, ...] = (
    "Theft",
    "Burglary",
    "Assault",
    "Criminal Mischief",
    "Suspicious Circumstances",
    "Harassment",
    "Robbery",
    "Unauthorized Use of Vehicle",
    "Drug Offense",
)

HARBOR_NARRATIVES: tuple[str, ...] = (
    "{kind} reported by caller at {place}; officers contacted involved persons.",
    "Responded to {place} regarding {kind}. Parties separated and interviewed.",
    "{kind} investigation at {place}. Evidence photographed, report forwarded.",
    "Caller reported {kind} near {place}. Suspect gone on arrival; info on file.",
)

MISSING_CIRCUMSTANCES: tuple[str, ...] = (
    "Did not return home from school",
    "Left residence after argument with family",
    "Missed scheduled shift, phone off",
    "Walked away from care facility",
    "Last seen leaving with friends",
    "Did not arrive at bus station as planned",
)

REPORTER_RELATIONS: tuple[str, ...] = (
    "Mother", "Father", "Sibling", "Partner", "Friend", "Employer", "Caseworker",
)

TIP_SUMMARIES: tuple[str, ...] = (
    "Caller believes drugs are being sold from a house near {place}.",
    "Tipster reports a man with a handgun hanging around {place}.",
    "Web form: stolen tools being resold out of a van parked at {place}.",
    "Anonymous caller says the person wanted for the break-ins stays at {place}.",
    "Tipster saw someone spray-painting near {place} last night.",
    "Caller reports repeated late-night traffic at {place}, short visits.",
)

PLACES: tuple[str, ...] = (
    "the Riverside Market", "Lakeview Park", "the transit center", "Harbor Plaza",
    "the Bayview Motel", "Pier 3", "the Mill St apartments", "Cedar Heights Elementary",
    "the Front St bars", "the Oak Ave laundromat", "the Shell station on Division",
    "the public library", "the Union St bridge", "the Sandy Blvd Safeway lot",
)

BEATS: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5", "R6")
DISTRICTS: tuple[str, ...] = ("North", "South", "Waterfront", "Downtown", "Eastside")
