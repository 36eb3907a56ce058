"""The planted demo story: one young woman seen by three agencies, none of them lakeside_so.

With ``story=True`` (the default) every generated dataset holds these records,
with these ids and values, whatever the seed, so the demo script, the docs and
the tests can search for them:

1. ``rivertown_pd`` CAD call ``CAD-2026-004211`` (2026-09-14): an anonymous
   caller, phoning from the young woman's cell, reports ``RAMIREZ, JAZMIN``
   aka ``Jazzy``, DOB ``03/04/1999``, at the Bayview Motel; callback number
   ``(503) 555-0142``.
2. ``tip_hotline`` tip ``TIP-88213`` (2026-09-15): a girl who goes by
   ``Jazzy``, phone ``503.555.0142``, no surname.
3. ``harbor_pd`` RMS incident ``HPD-26-031877`` (2026-09-16): ``Marcus Dell``,
   suspect, phone ``503-555-0142``, driving plate ``7KDX214`` (OR).
4. ``harbor_pd`` field interview ``HFI-260419`` (2026-10-02): ``Marcus Dell``
   in the Bayview Motel lot at night, phone ``+15035550142``, same plate. No
   name of hers in it: only a sweep from her phone finds it.
5. ``lakeside_so`` -- the investigator's own agency -- holds nothing about her.

Two more fixed records at ``rivertown_pd`` (RMS) exist for policy demos: a
``sealed`` one and a ``juvenile`` one, about other people.

The people in the story are not in the random pool, their phone number and
plate are never handed to anyone else, and nobody in the pool shares their
names, so searches for them find exactly these records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accord.synthetic.people import Entity, EntityVehicle


@dataclass(frozen=True)
class StoryRecord:
    """Where one story record lives."""

    agency: str
    source: str
    source_id: str


@dataclass(frozen=True)
class Story:
    """The planted persona and the fixed ids of the records about her."""

    name: str
    given: str
    family: str
    dob: dt.date
    nickname: str
    phone: str
    plate: str
    plate_state: str
    #: Ground-truth entity id of the persona.
    entity_id: str
    #: The agency whose investigator runs the demo search; it holds no record of her.
    investigator_agency: str
    cad_call_id: str
    tip_id: str
    harbor_incident_id: str
    #: harbor_pd's field interview of the associate, found only by a sweep.
    harbor_fi_id: str
    #: The man seen with her phone and driving the plate.
    associate_name: str
    associate_entity_id: str
    #: Fixed policy-demo records at rivertown_pd (RMS), about other people.
    sealed_record_id: str
    juvenile_record_id: str

    @property
    def records(self) -> tuple[StoryRecord, ...]:
        """The four records that mention the persona, her phone or her plate."""
        return (
            StoryRecord("rivertown_pd", "rivertown_cad", self.cad_call_id),
            StoryRecord("tip_hotline", "tip_hotline_tips", self.tip_id),
            StoryRecord("harbor_pd", "harbor_rms", self.harbor_incident_id),
            StoryRecord("harbor_pd", "harbor_fi", self.harbor_fi_id),
        )

    @property
    def policy_records(self) -> tuple[StoryRecord, ...]:
        """The sealed and the juvenile record (rivertown_pd RMS)."""
        return (
            StoryRecord("rivertown_pd", "rivertown_rms", self.sealed_record_id),
            StoryRecord("rivertown_pd", "rivertown_rms", self.juvenile_record_id),
        )


STORY = Story(
    name="Jazmin Ramírez",
    given="Jazmin",
    family="Ramírez",
    dob=dt.date(1999, 3, 4),
    nickname="Jazzy",
    phone="(503) 555-0142",
    plate="7KDX214",
    plate_state="OR",
    entity_id="STORY-JAZMIN",
    investigator_agency="lakeside_so",
    cad_call_id="CAD-2026-004211",
    tip_id="TIP-88213",
    harbor_incident_id="HPD-26-031877",
    harbor_fi_id="HFI-260419",
    associate_name="Marcus Dell",
    associate_entity_id="STORY-MARCUS",
    sealed_record_id="RT26-000901",
    juvenile_record_id="RT26-000902",
)

#: The phone of the story as ten digits, for the generator's reservations.
STORY_PHONE_DIGITS = "5035550142"

JAZMIN = Entity(
    entity_id=STORY.entity_id,
    given=STORY.given,
    family=STORY.family,
    dob=STORY.dob,
    nickname=STORY.nickname,
    phones=(STORY_PHONE_DIGITS,),
)

MARCUS = Entity(
    entity_id=STORY.associate_entity_id,
    given="Marcus",
    family="Dell",
    dob=dt.date(1986, 11, 21),
    phones=(STORY_PHONE_DIGITS,),
    address="88 Water St, Harbor City, OR 97104",
    vehicle=EntityVehicle(plate=STORY.plate, state=STORY.plate_state),
)

#: Whoever called in the CAD call from her phone; never identified.
ANONYMOUS_CALLER_ID = "STORY-CAD-CALLER"

#: The subject of the sealed record.
SEALED_PERSON = Entity(
    entity_id="STORY-SEALED",
    given="Daniel",
    family="Okafor",
    dob=dt.date(1988, 7, 19),
    phones=("2065550163",),
    address="4410 Alder Ln, Rivertown, OR 97211",
)

#: The subject of the juvenile record.
JUVENILE_PERSON = Entity(
    entity_id="STORY-JUVENILE",
    given="Tyler",
    family="Nguyen",
    dob=dt.date(2011, 5, 2),
    address="912 Birch Ct, Rivertown, OR 97206",
)

#: Everyone planted by the story; the random pool never uses their names.
STORY_PEOPLE: tuple[Entity, ...] = (JAZMIN, MARCUS, SEALED_PERSON, JUVENILE_PERSON)
