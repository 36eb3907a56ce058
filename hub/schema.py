"""Every table of the hub's store, for its migrations and their test."""

from sqlalchemy import MetaData

from hub.audit import metadata as audit_metadata
from hub.notices import metadata as notices_metadata
from hub.ratelimits import metadata as ratelimits_metadata
from hub.releases import metadata as releases_metadata
from hub.watches import metadata as watches_metadata

METADATA: tuple[MetaData, ...] = (audit_metadata, releases_metadata, notices_metadata,
                                  watches_metadata, ratelimits_metadata)
